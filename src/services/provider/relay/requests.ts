/**
 * Service requests made at a terminal ("the user asks for an application at the counter"): a small state
 * machine per request, `open` → `done` | `failed`. While a request is open, the card it names is the card
 * in that terminal, and the issuer may reach that card through the relay (and only then). Kept in memory:
 * a request lives as long as the user stands at the counter; the flows it starts are persisted by the
 * provider itself.
 */
import { toHex } from '../../../core/bytes.ts';
import { systemRandom, type RandomSource } from '../../../crypto/random.ts';
import type { PrivilegeName } from '../../../gp/privileges.ts';
import type { ServiceRequestState, ServiceRequestView } from '../../common/relay-api.ts';

export interface ServiceRequest {
  readonly id: string;
  readonly terminalId: string;
  readonly cardId: string;
  readonly aid: string;
  readonly privileges: readonly PrivilegeName[];
  state: ServiceRequestState;
  step: string;
  result: Readonly<Record<string, unknown>> | undefined;
  error: { readonly code: string; readonly detail: string } | undefined;
  readonly createdAt: string;
  updatedAt: string;
}

export interface ServiceRequestsOptions {
  readonly random?: RandomSource;
  readonly now?: () => Date;
  /** Finished requests kept per terminal for the terminal to read their outcome (default 16). */
  readonly keepFinished?: number;
}

export class ServiceRequests {
  readonly #byId = new Map<string, ServiceRequest>();
  readonly #byTerminal = new Map<string, ServiceRequest[]>();
  readonly #random: RandomSource;
  readonly #now: () => Date;
  readonly #keep: number;

  constructor(options: ServiceRequestsOptions = {}) {
    this.#random = options.random ?? systemRandom;
    this.#now = options.now ?? (() => new Date());
    this.#keep = options.keepFinished ?? 16;
  }

  /** The open request of a terminal, if any (at most one: one card at a counter at a time). */
  open(terminalId: string): ServiceRequest | undefined {
    return this.#byTerminal.get(terminalId)?.find((r) => r.state === 'open');
  }

  /** The most recent request of a terminal (open or finished). */
  latest(terminalId: string): ServiceRequest | undefined {
    const list = this.#byTerminal.get(terminalId);
    return list?.[list.length - 1];
  }

  get(id: string): ServiceRequest | undefined {
    return this.#byId.get(id);
  }

  /** Record a new open request; the caller checked that none is open at this terminal. */
  create(init: { terminalId: string; cardId: string; aid: string; privileges: readonly PrivilegeName[] }): ServiceRequest {
    if (this.open(init.terminalId)) throw new Error(`terminal ${init.terminalId} already has an open request`);
    const at = this.#now().toISOString();
    const r: ServiceRequest = {
      id: toHex(this.#random(16)).toLowerCase(),
      terminalId: init.terminalId,
      cardId: init.cardId.toUpperCase(),
      aid: init.aid.toUpperCase(),
      privileges: Object.freeze([...init.privileges]),
      state: 'open',
      step: 'received',
      result: undefined,
      error: undefined,
      createdAt: at,
      updatedAt: at,
    };
    this.#byId.set(r.id, r);
    const list = this.#byTerminal.get(r.terminalId) ?? [];
    list.push(r);
    this.#byTerminal.set(r.terminalId, list);
    this.#prune(list);
    return r;
  }

  progress(r: ServiceRequest, step: string): void {
    if (r.state !== 'open') return;
    r.step = step;
    r.updatedAt = this.#now().toISOString();
  }

  finish(r: ServiceRequest, outcome: { result: Readonly<Record<string, unknown>> } | { error: { code: string; detail: string } }): void {
    if (r.state !== 'open') return;
    if ('result' in outcome) {
      r.state = 'done';
      r.step = 'done';
      r.result = outcome.result;
    } else {
      r.state = 'failed';
      r.error = outcome.error;
    }
    r.updatedAt = this.#now().toISOString();
    this.#prune(this.#byTerminal.get(r.terminalId)!);
  }

  #prune(list: ServiceRequest[]): void {
    let finished = list.filter((r) => r.state !== 'open').length;
    while (finished > this.#keep) {
      const i = list.findIndex((r) => r.state !== 'open');
      const [gone] = list.splice(i, 1);
      this.#byId.delete(gone!.id);
      finished--;
    }
  }
}

export function viewOf(r: ServiceRequest): ServiceRequestView {
  return {
    id: r.id,
    terminalId: r.terminalId,
    cardId: r.cardId,
    aid: r.aid,
    privileges: [...r.privileges],
    state: r.state,
    step: r.step,
    ...(r.result !== undefined ? { result: r.result } : {}),
    ...(r.error !== undefined ? { error: r.error } : {}),
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}
