/**
 * The HTTP side of the one callback flow (./callback.ts), for the callback routes only: the request's parts a
 * CallbackInput needs, and the CallbackOutcome as the reply. Services never see Fastify's types.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CallbackInput, CallbackOutcome } from './callback.js';

/** Whether the caller is a program that wants the JSON envelope rather than a browser redirect. */
export function wantsJson(req: FastifyRequest): boolean {
  const accept = String(req.headers.accept ?? '');
  return accept.includes('application/json') && !accept.includes('text/html');
}

/** The query string exactly as the identity provider sent it. */
export const rawQueryOf = (req: FastifyRequest) =>
  req.url.includes('?') ? req.url.slice(req.url.indexOf('?') + 1) : '';

/** A CallbackInput of this request (the state and answer are the protocol's). */
export function callbackInput(
  req: FastifyRequest,
  parts: Pick<CallbackInput, 'state' | 'answer' | 'target'>,
): CallbackInput {
  return {
    ...parts,
    audit: req.auditContext(),
    client: {
      ip: req.ip,
      userAgent: typeof req.headers['user-agent'] === 'string' ? req.headers['user-agent'] : null,
    },
    json: wantsJson(req),
  };
}

/** The outcome as the reply: a 302 or the JSON body, never cached. */
export function sendOutcome(reply: FastifyReply, outcome: CallbackOutcome) {
  reply.header('cache-control', 'no-store');
  if ('redirect' in outcome) return reply.code(302).header('location', outcome.redirect).send();
  return reply.send(outcome.json);
}
