import type { FastifyRequest } from 'fastify';
import type { CallerActor } from '../directory/service.js';
import { unauthenticated } from './errors.js';

/** The authenticated actor of a `/v1.0` request; the authentication hook has set its caller. */
export function actorOf(request: FastifyRequest): CallerActor {
  if (!request.caller) throw unauthenticated('Sign in first.');
  return { caller: request.caller, correlationId: request.id };
}

/** The public base of links in responses, such as `@odata.context` and `@odata.nextLink`. */
export function odataContext(publicUrl: string, path: string): string {
  return `${publicUrl}/v1.0/$metadata#${path}`;
}
