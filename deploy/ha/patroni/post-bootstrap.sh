#!/bin/sh
# Patroni's post_bootstrap: runs once, on the node that initialised the cluster, with a connection string to it
# (as the superuser) in $1. Creates the API's owner role (not a superuser: BYPASSRLS for the migrations' checks,
# CREATEROLE for the first migration, which creates the NOLOGIN role massacorp_app the app switches to) and its
# database. The password comes from the environment, never from a file in the image.
set -eu
: "${MASSACORP_DB_PASSWORD:?set MASSACORP_DB_PASSWORD, the password of the API's database role}"
psql "$1" -v ON_ERROR_STOP=1 -q -v pw="$MASSACORP_DB_PASSWORD" <<'SQL'
create role massacorp login bypassrls createrole password :'pw';
create database massacorp owner massacorp;
SQL
