// Who a download fetches from: a peer that has the file, as SEARCH-FILE lists it.

/** A peer that has the file: FileHolder from SEARCH-FILE fits. */
export interface Holder {
  name: string;
  ip: string;
  tcpPort: number;
  /** What the holder published, when it did: what it sends must agree. */
  size?: number;
  sha256?: string;
  piecesRoot?: string;
  chunks?: number;
  /** The index server sees it behind a NAT: reach it by callback rather than by connecting. */
  behindNat?: boolean;
}

export const describeHolder = (holder: Holder): string => `${holder.name} (${holder.ip}:${holder.tcpPort})`;

/** A holder's identity within one download: its name, or its address when names repeat. */
export const holderKey = (holder: Holder): string => `${holder.name}@${holder.ip}:${holder.tcpPort}`;
