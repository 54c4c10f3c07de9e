/**
 * The texts of every mail the service sends, bilingual (French first, as the API's default locale, then
 * English): a mail is read outside the request that caused it, so we cannot know the reader's language.
 * Plain text only: no tracking pixels, no remote content, nothing a mail client could render as a phishing
 * lure. Never put a secret other than the one the mail exists to deliver (the reset link) in a mail.
 */
import type { Mail } from '../context.js';

const SIGNATURE = '\n-- \nMassaCorp\n';

function when(d: Date): string {
  return `${d.toISOString().replace('T', ' ').slice(0, 19)} UTC`;
}

export function passwordResetMail(to: string, link: string, validMinutes: number): Mail {
  return {
    to,
    subject: 'MassaCorp : réinitialisation du mot de passe / password reset',
    text:
      [
        'Bonjour,',
        '',
        'Une réinitialisation du mot de passe de votre compte MassaCorp a été demandée.',
        `Pour choisir un nouveau mot de passe, ouvrez ce lien (valable ${validMinutes} minutes, une seule fois) :`,
        '',
        link,
        '',
        "Si vous n'êtes pas à l'origine de cette demande, ignorez ce message : votre mot de passe reste inchangé.",
        '',
        '---',
        '',
        'Hello,',
        '',
        'Someone asked to reset the password of your MassaCorp account.',
        `To choose a new password, open this link (valid for ${validMinutes} minutes, once):`,
        '',
        link,
        '',
        'If this was not you, ignore this message: your password has not changed.',
      ].join('\n') + SIGNATURE,
  };
}

/**
 * Confirms an address typed at a social sign-up (issue 18): nothing exists until it is confirmed, and confirming
 * needs the sign-up's own session too, so a stranger's link in this mailbox can make no account here.
 */
export function socialSignupVerificationMail(
  to: string,
  link: string,
  providerName: string,
  validMinutes: number,
): Mail {
  return {
    to,
    subject: 'MassaCorp : confirmez votre adresse / confirm your address',
    text:
      [
        'Bonjour,',
        '',
        `Quelqu'un crée un compte MassaCorp avec cette adresse en se connectant par ${providerName}.`,
        `Si c'est vous, ouvrez ce lien dans le navigateur où vous vous inscrivez (valable ${validMinutes} minutes, une seule fois) :`,
        '',
        link,
        '',
        "Si vous n'êtes pas à l'origine de cette inscription, ignorez ce message : aucun compte ne sera créé.",
        '',
        '---',
        '',
        'Hello,',
        '',
        `Someone is creating a MassaCorp account with this address by signing in with ${providerName}.`,
        `If this is you, open this link in the browser where you are signing up (valid for ${validMinutes} minutes, once):`,
        '',
        link,
        '',
        'If this was not you, ignore this message: no account will be created.',
      ].join('\n') + SIGNATURE,
  };
}

export function passwordChangedMail(to: string, at: Date, how: 'change' | 'reset'): Mail {
  const fr = how === 'reset' ? 'a été réinitialisé par lien de récupération' : 'a été modifié';
  const en = how === 'reset' ? 'was reset through a recovery link' : 'was changed';
  return {
    to,
    subject: 'MassaCorp : mot de passe modifié / password changed',
    text:
      [
        'Bonjour,',
        '',
        `Le mot de passe de votre compte MassaCorp (${to}) ${fr} le ${when(at)}.`,
        how === 'reset' ? 'Toutes vos sessions ont été fermées.' : 'Vos autres sessions ont été fermées.',
        "Si vous n'êtes pas à l'origine de ce changement, réinitialisez votre mot de passe et prévenez",
        'immédiatement votre administrateur.',
        '',
        '---',
        '',
        'Hello,',
        '',
        `The password of your MassaCorp account (${to}) ${en} on ${when(at)}.`,
        how === 'reset' ? 'All your sessions were signed out.' : 'Your other sessions were signed out.',
        'If this was not you, reset your password and tell your administrator at once.',
      ].join('\n') + SIGNATURE,
  };
}

export interface SignInDetails {
  at: Date;
  ip: string | null;
  deviceType: string | null;
  browser: string | null;
  os: string | null;
}

export function newSignInMail(to: string, d: SignInDetails): Mail {
  const device =
    [d.browser, d.os, d.deviceType].filter(Boolean).join(', ') || 'unknown device / appareil inconnu';
  return {
    to,
    subject: 'MassaCorp : nouvelle connexion / new sign-in',
    text:
      [
        'Bonjour,',
        '',
        'Une connexion à votre compte MassaCorp a eu lieu depuis un appareil que nous ne connaissions pas :',
        `  date : ${when(d.at)}`,
        `  appareil : ${device}`,
        `  adresse IP : ${d.ip ?? 'inconnue'}`,
        "Si c'était vous, il n'y a rien à faire. Sinon, changez votre mot de passe, fermez vos sessions",
        '(Sessions) et prévenez votre administrateur.',
        '',
        '---',
        '',
        'Hello,',
        '',
        'Your MassaCorp account was signed in to from a device we had not seen before:',
        `  date: ${when(d.at)}`,
        `  device: ${device}`,
        `  IP address: ${d.ip ?? 'unknown'}`,
        'If this was you, there is nothing to do. Otherwise change your password, end your sessions and tell',
        'your administrator.',
      ].join('\n') + SIGNATURE,
  };
}

/** For the MFA module: two-factor authentication was turned off. */
export function mfaDisabledMail(to: string, at: Date): Mail {
  return {
    to,
    subject: 'MassaCorp : double authentification désactivée / two-factor authentication disabled',
    text:
      [
        'Bonjour,',
        '',
        `La double authentification (TOTP) de votre compte MassaCorp (${to}) a été désactivée le ${when(at)}.`,
        "Votre compte n'est plus protégé que par son mot de passe. Si vous n'êtes pas à l'origine de ce",
        'changement, réactivez-la, changez votre mot de passe et prévenez votre administrateur.',
        '',
        '---',
        '',
        'Hello,',
        '',
        `Two-factor authentication (TOTP) of your MassaCorp account (${to}) was disabled on ${when(at)}.`,
        'Your account is now protected by its password only. If this was not you, enable it again, change',
        'your password and tell your administrator.',
      ].join('\n') + SIGNATURE,
  };
}

export interface IdentityChange {
  at: Date;
  /** What the identity signs in with: an SSO connection's name or a social provider's. */
  source: string;
  ip: string | null;
}

/** A sign-in method was added to the account (SSO/social link mode): the owner must hear of it at once. */
export function identityLinkedMail(to: string, d: IdentityChange): Mail {
  return {
    to,
    subject: 'MassaCorp : nouveau moyen de connexion / new sign-in method',
    text:
      [
        'Bonjour,',
        '',
        `Une identité externe (${d.source}) a été liée à votre compte MassaCorp (${to}) le ${when(d.at)}`,
        `depuis l'adresse IP ${d.ip ?? 'inconnue'}. Elle permet désormais de vous connecter.`,
        "Si vous n'êtes pas à l'origine de ce changement, retirez-la (Identités liées), changez votre mot de",
        'passe, fermez vos sessions et prévenez votre administrateur.',
        '',
        '---',
        '',
        'Hello,',
        '',
        `An external identity (${d.source}) was linked to your MassaCorp account (${to}) on ${when(d.at)}`,
        `from IP address ${d.ip ?? 'unknown'}. It can now be used to sign in.`,
        'If this was not you, remove it (Linked identities), change your password, end your sessions and tell',
        'your administrator.',
      ].join('\n') + SIGNATURE,
  };
}

/** A sign-in method was removed from the account. */
export function identityUnlinkedMail(to: string, d: IdentityChange): Mail {
  return {
    to,
    subject: 'MassaCorp : moyen de connexion retiré / sign-in method removed',
    text:
      [
        'Bonjour,',
        '',
        `L'identité externe ${d.source} a été retirée de votre compte MassaCorp (${to}) le ${when(d.at)}`,
        `depuis l'adresse IP ${d.ip ?? 'inconnue'}.`,
        "Si vous n'êtes pas à l'origine de ce changement, changez votre mot de passe et prévenez votre",
        'administrateur.',
        '',
        '---',
        '',
        'Hello,',
        '',
        `The external identity ${d.source} was removed from your MassaCorp account (${to}) on ${when(d.at)}`,
        `from IP address ${d.ip ?? 'unknown'}.`,
        'If this was not you, change your password and tell your administrator.',
      ].join('\n') + SIGNATURE,
  };
}

/**
 * An invitation to a tenant (issue 20): the single-use link sets a password; when `sso` the person may instead
 * sign in through the organisation's single sign-on with this address. The organisation's name is an
 * administrator's text: it stands in the body only, on its own, never in the subject.
 */
export function invitationMail(
  to: string,
  d: { link: string; organisation: string; expiresAt: Date; sso: boolean },
): Mail {
  return {
    to,
    subject: 'MassaCorp : invitation / you are invited',
    text:
      [
        'Bonjour,',
        '',
        'Vous êtes invité(e) à rejoindre cette organisation sur MassaCorp :',
        `  ${d.organisation}`,
        `Pour accepter, ouvrez ce lien (valable jusqu'au ${when(d.expiresAt)}, une seule fois) :`,
        '',
        d.link,
        '',
        ...(d.sso
          ? [
              "Vous pouvez aussi vous connecter directement avec l'authentification unique de votre organisation.",
              '',
            ]
          : []),
        "Si vous n'attendiez pas cette invitation, ignorez ce message : aucun compte ne sera créé.",
        '',
        '---',
        '',
        'Hello,',
        '',
        'You are invited to join this organisation on MassaCorp:',
        `  ${d.organisation}`,
        `To accept, open this link (valid until ${when(d.expiresAt)}, once):`,
        '',
        d.link,
        '',
        ...(d.sso ? ["You may also sign in directly with your organisation's single sign-on.", ''] : []),
        'If you did not expect this invitation, ignore this message: no account will be made.',
      ].join('\n') + SIGNATURE,
  };
}

/** An administrator reset the account's second factors (issue 20): the owner must know at once. */
export function mfaResetMail(to: string, at: Date): Mail {
  return {
    to,
    subject: 'MassaCorp : double authentification réinitialisée / two-factor authentication reset',
    text:
      [
        'Bonjour,',
        '',
        `Un administrateur a réinitialisé la double authentification de votre compte MassaCorp (${to}) le ${when(at)} :`,
        'application TOTP, clés de sécurité et codes de récupération ont été supprimés, et vos sessions fermées.',
        "Reconnectez-vous et configurez un nouveau second facteur. Si vous n'avez rien demandé, prévenez votre",
        'administrateur.',
        '',
        '---',
        '',
        'Hello,',
        '',
        `An administrator reset two-factor authentication of your MassaCorp account (${to}) on ${when(at)}:`,
        'the TOTP app, security keys and recovery codes were removed, and your sessions ended.',
        'Sign in again and set up a new second factor. If you did not ask for this, tell your administrator.',
      ].join('\n') + SIGNATURE,
  };
}
