/**
 * Outgoing mail: SMTP through nodemailer when SMTP_URL is set. Without it, in dev and test only, the mail is
 * written to the log so reset links can be followed locally; in staging and prod it is dropped with a warning
 * that names neither the recipient's token nor the body (reset links are credentials).
 */

import type { FastifyBaseLogger } from 'fastify';
import nodemailer from 'nodemailer';
import type { Config } from '../../config.js';
import type { Mail, Mailer } from '../context.js';

export function createMailer(
  config: Pick<Config, 'smtpUrl' | 'mailFrom' | 'env'>,
  log: FastifyBaseLogger,
): Mailer {
  if (config.smtpUrl) {
    // Bounded waits: a dead relay must fail a send in seconds, not hold it (and its caller) for minutes.
    const transport = nodemailer.createTransport({
      url: config.smtpUrl,
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 20_000,
    } as Parameters<typeof nodemailer.createTransport>[0]);
    return {
      async send(mail: Mail) {
        await transport.sendMail({
          from: config.mailFrom,
          to: mail.to,
          subject: mail.subject,
          text: mail.text,
        });
      },
    };
  }
  const logBodies = config.env === 'dev' || config.env === 'test';
  return {
    async send(mail: Mail) {
      if (!logBodies) log.warn({ to: mail.to, subject: mail.subject }, 'SMTP_URL is not set: mail dropped');
      // Dev and test only: the text holds reset links, which is the point of logging it (follow them locally).
      // dev_mail marks the one line the log redaction leaves whole (log-redaction.ts, never outside dev/test).
      else log.info({ dev_mail: true, mail }, 'mail (SMTP_URL not set, logged instead of sent)');
    },
  };
}
