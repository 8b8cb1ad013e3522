import { buildSchema, parse, validate } from 'graphql';
import { queryComplexityRule } from './query-complexity.rule';

const schema = buildSchema(`
  type Attempt { id: ID! outcome: String! }
  type Payment { id: ID! status: String! attempts: [Attempt!]! refunds: [Attempt!]! parent: Payment }
  type Edge { node: Payment! cursor: String! }
  type Connection { edges: [Edge!]! }
  type Query { payment(id: ID!): Payment payments(first: Int): Connection! }
`);
const rule = queryComplexityRule({
  maxDepth: 5,
  maxCost: 1000,
  maxPageSize: 100,
  defaultPageSize: 20,
  nestedListSize: 3,
});
const codes = (query: string) =>
  validate(schema, parse(query), [rule]).map((e) => e.extensions.code);

describe('queryComplexityRule', () => {
  it('allows an ordinary page of payments with attempts', () => {
    expect(
      codes('{ payments(first: 20) { edges { node { id attempts { id outcome } } } } }'),
    ).toEqual([]);
  });

  it('refuses a query deeper than the limit', () => {
    expect(
      codes('{ payment(id: "p") { parent { parent { parent { parent { parent { id } } } } } } }'),
    ).toEqual(['QUERY_TOO_COMPLEX']);
  });

  it('multiplies cost by the page size and assumes the worst case for variables', () => {
    const q = (first: string) =>
      `query($n: Int) { payments(first: ${first}) { edges { node { id status attempts { id outcome } refunds { id outcome } } } } }`;
    expect(codes(q('10'))).toEqual([]);
    expect(codes(q('100'))).toEqual(['QUERY_TOO_COMPLEX']);
    expect(codes(q('$n'))).toEqual(['QUERY_TOO_COMPLEX']);
  });

  it('counts fragments and aliases', () => {
    const query = `{ ${Array.from({ length: 6 }, (_, i) => `a${i}: payments(first: 50) { edges { node { ...f } } }`).join(' ')} }
      fragment f on Payment { id status attempts { id } }`;
    expect(codes(query)).toEqual(['QUERY_TOO_COMPLEX']);
  });

  it('does not bill introspection', () => {
    expect(
      codes(
        '{ __schema { types { name fields { name type { name ofType { name ofType { name } } } } } } }',
      ),
    ).toEqual([]);
  });
});
