import { encodeCursor } from '../../../../libs/payments/src';

/** A Relay connection (edges with cursors, pageInfo) over one keyset page of prefixed-id nodes. */
export function toConnection<T extends { id: string }>(
  nodes: readonly T[],
  page: { hasNextPage: boolean; hasPreviousPage: boolean },
) {
  return edgesConnection(
    nodes.map((node) => ({ cursor: encodeCursor(node.id), node })),
    page,
  );
}

/** A Relay connection over edges whose cursors the page already carries. */
export function edgesConnection<T>(
  edges: { cursor: string; node: T }[],
  page: { hasNextPage: boolean; hasPreviousPage: boolean },
) {
  return {
    edges,
    pageInfo: {
      hasNextPage: page.hasNextPage,
      hasPreviousPage: page.hasPreviousPage,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}
