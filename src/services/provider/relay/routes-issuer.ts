/**
 * The issuer-facing relay route: `POST /v1/relay/terminals/:terminalId/scripts` {cardId, apdus} →
 * {responses}. The caller must be the issuer (certificate CN among `relay.issuerPeers`), and the terminal
 * must have an open service request for that card — the issuer reaches a card at a counter only while the
 * provider asked it to (flow 3), never at will. Refusals queue nothing.
 */
import type { FastifyInstance } from 'fastify';
import { fromHex, toHex } from '../../../core/bytes.ts';
import { requirePeer } from '../../../platform/http/peer.ts';
import { TERMINAL_ID, relayScriptAnswerSchema, relayScriptBodySchema, type RelayScriptBody } from './api.ts';
import { relayProblem } from './errors.ts';
import type { TerminalRelay } from './relay.ts';

export async function issuerRoutes(app: FastifyInstance, options: { relay: TerminalRelay }): Promise<void> {
  const { relay } = options;
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
