/**
 * The issuer-facing relay route: `POST /v1/relay/terminals/:terminalId/scripts` {cardId, apdus} →
 * {responses}. The caller must be the issuer (certificate CN among `relay.issuerPeers`), and the terminal
 * must have an open service request for that card — the issuer reaches a card at a counter only while the
 * provider asked it to (flow 3), never at will. Refusals queue nothing.
 *
 * Conversations (issue 8 §2): `POST …/:terminalId/conversations` {cardId} → 201 {conversationId, idleTimeoutMs}
 * once the card is free (503 CARD_BUSY + Retry-After after the longest wait); `POST …/conversations/:cid/scripts`
 * {cardId, apdus} inside it (409 CONVERSATION_NOT_HELD when closed or expired); `DELETE …/conversations/:cid` → 204.
 */
import type { FastifyInstance } from 'fastify';
import { fromHex, toHex } from '../../../core/bytes.ts';
import { requirePeer } from '../../../platform/http/peer.ts';
import { TERMINAL_ID, relayConversationAnswerSchema, relayConversationBodySchema, relayScriptAnswerSchema, relayScriptBodySchema, type RelayScriptBody } from '../../common/relay-api.ts';
import { relayProblem } from '../../common/relay-errors.ts';
import type { TerminalRelay } from './relay.ts';

const terminalParams = { type: 'object', required: ['terminalId'], properties: { terminalId: { type: 'string', pattern: TERMINAL_ID.source } } } as const;
const conversationParams = {
  type: 'object',
  required: ['terminalId', 'cid'],
  properties: { terminalId: { type: 'string', pattern: TERMINAL_ID.source }, cid: { type: 'string', maxLength: 64 } },
} as const;

export async function issuerRoutes(app: FastifyInstance, options: { relay: TerminalRelay }): Promise<void> {
  const { relay } = options;
  const issuerOnly = requirePeer(...relay.issuerPeers);
  app.post(
    '/v1/relay/terminals/:terminalId/conversations',
    {
      onRequest: issuerOnly,
      schema: {
        summary: 'Wait for the card in a terminal and hold it (one conversation: the secure channel session of a flow step)',
        tags: ['relay'],
        params: terminalParams,
        body: relayConversationBodySchema,
        response: { 201: relayConversationAnswerSchema },
      },
    },
    async (request, reply) => {
      const { terminalId } = request.params as { terminalId: string };
      try {
        return reply.code(201).send(await relay.openConversation(terminalId, (request.body as { cardId: string }).cardId, 'issuer'));
      } catch (e) {
        throw relayProblem(e);
      }
    },
  );
  app.post(
    '/v1/relay/terminals/:terminalId/conversations/:cid/scripts',
    {
      onRequest: issuerOnly,
      schema: { summary: "The issuer's C-APDUs inside its conversation", tags: ['relay'], params: conversationParams, body: relayScriptBodySchema, response: { 200: relayScriptAnswerSchema } },
    },
    async (request) => {
      const { terminalId, cid } = request.params as { terminalId: string; cid: string };
      const body = request.body as RelayScriptBody;
      try {
        const responses = await relay.transmitScript(terminalId, body.cardId, body.apdus.map((a) => fromHex(a)), 'issuer', cid);
        return { responses: responses.map((r) => toHex(r).toUpperCase()) };
      } catch (e) {
        throw relayProblem(e);
      }
    },
  );
  app.delete(
    '/v1/relay/terminals/:terminalId/conversations/:cid',
    {
      onRequest: issuerOnly,
      schema: { summary: 'End the conversation: the card goes to the next in line', tags: ['relay'], params: conversationParams, response: { 204: { description: 'Ended', type: 'null' } } },
    },
    async (request, reply) => {
      const { terminalId, cid } = request.params as { terminalId: string; cid: string };
      try {
        relay.closeConversation(terminalId, cid);
      } catch (e) {
        throw relayProblem(e);
      }
      return reply.code(204).send();
    },
  );
  app.post(
    '/v1/relay/terminals/:terminalId/scripts',
    {
      onRequest: requirePeer(...relay.issuerPeers),
      schema: {
        summary: "The issuer's C-APDUs to the card in a provider's terminal (while the terminal has an open request for that card)",
        tags: ['relay'],
        params: { type: 'object', required: ['terminalId'], properties: { terminalId: { type: 'string', pattern: TERMINAL_ID.source } } },
        body: relayScriptBodySchema,
        response: { 200: relayScriptAnswerSchema },
      },
    },
    async (request) => {
      const { terminalId } = request.params as { terminalId: string };
      const body = request.body as RelayScriptBody;
      try {
        const responses = await relay.transmitScript(terminalId, body.cardId, body.apdus.map((a) => fromHex(a)), 'issuer');
        return { responses: responses.map((r) => toHex(r).toUpperCase()) };
      } catch (e) {
        throw relayProblem(e);
      }
    },
  );
}
