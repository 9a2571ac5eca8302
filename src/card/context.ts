/**
 * What a command handler works with: the draft of the persistent state (committed only when the command
 * succeeds), the transient channel state, and the card's fixed runtime (applet code, randomness).
 */
import type { CommandApdu } from '../apdu/command.ts';
import type { RandomSource } from '../crypto/random.ts';
import type { CardSecureChannel } from '../scp/channel.ts';
import type { AppletCatalogue } from './applets/catalogue.ts';
import type { ChannelManager, ChannelState, DecodedCla } from './channels.ts';
import type { AppRecord, CardState } from './state.ts';

export interface CardRuntime {
  readonly catalogue: AppletCatalogue;
  readonly random: RandomSource;
  readonly channels: ChannelManager;
}

export interface CommandContext extends CardRuntime {
  /** Draft of the persistent state; changes are kept only if the command succeeds. */
  readonly state: CardState;
  readonly channelNo: number;
  readonly channel: ChannelState;
  readonly cla: DecodedCla;
}

/** A command addressed to the Security Domain selected on the channel. */
export interface SdCommandContext extends CommandContext {
  /** The selected Security Domain's registry entry (in the draft). */
  readonly sd: AppRecord;
  /** The authenticated secure channel session, when one is open. */
  readonly session: CardSecureChannel | undefined;
  /** The command after secure messaging was removed. */
  readonly command: CommandApdu;
}
