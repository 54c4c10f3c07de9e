import pg from "pg"; const c=new pg.Client({connectionString:"postgres://postgres@127.0.0.1:5432/test"}); await c.connect(); await c.query("drop table if exists t"); const db={exec:(s)=>c.query(s),query:(s,p)=>c.query(s,p),transaction:async(f)=>{await c.query("begin");await f(db);await c.query("commit")}};

await db.exec(`DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname='massacorp_app') THEN CREATE ROLE massacorp_app NOLOGIN; END IF; END $$;
create table t (id serial primary key, tenant_id int not null, v text);
alter table t enable row level security; alter table t force row level security;
create policy p on t using (tenant_id = nullif(current_setting('app.tenant_id', true),'')::int) with check (tenant_id = nullif(current_setting('app.tenant_id', true),'')::int);
grant select, insert on t to massacorp_app; grant usage on all sequences in schema public to massacorp_app;
insert into t(tenant_id,v) values (1,'a'),(2,'b');`);
await db.transaction(async tx => {
  console.log((await tx.query(`select set_config('role','massacorp_app',true), set_config('app.tenant_id',$1,true), current_user`, ['1'])).rows);
  console.log((await tx.query('select * from t')).rows);
});
await db.transaction(async tx => {
  await tx.query(`select set_config('role','massacorp_app',true)`);
  console.log('noctx', (await tx.query('select * from t')).rows);
});
console.log((await db.query('select current_user, count(*) from t')).rows);
