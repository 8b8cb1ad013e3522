import {
  ASTVisitor,
  FieldNode,
  FragmentDefinitionNode,
  GraphQLError,
  Kind,
  OperationDefinitionNode,
  SelectionSetNode,
  ValidationContext,
  ValidationRule,
} from 'graphql';

export interface ComplexityLimits {
  readonly maxDepth: number;
  readonly maxCost: number;
  /** Page size assumed when `first` is a variable (worst case) or absent (the default). */
  readonly maxPageSize: number;
  readonly defaultPageSize: number;
  /** Expected length of a nested list such as `attempts` or `refunds`. */
  readonly nestedListSize: number;
}

const NESTED_LISTS = new Set(['attempts', 'refunds']);

interface Measure {
  depth: number;
  cost: number;
}

/**
 * Refuses operations deeper than `maxDepth` or costlier than `maxCost` with
 * QUERY_TOO_COMPLEX. Cost counts one per field, multiplied by the page size under a
 * connection (`first`, worst case when it is a variable) and by an expected size under lists.
 * It depends on the document only, so Mercurius can keep caching validation.
 */
export function queryComplexityRule(limits: ComplexityLimits): ValidationRule {
  return (context: ValidationContext): ASTVisitor => ({
    OperationDefinition(operation: OperationDefinitionNode) {
      const measure = measureSelection(operation.selectionSet, context, limits, new Set());
      if (measure.depth > limits.maxDepth || measure.cost > limits.maxCost) {
        context.reportError(
          new GraphQLError(
            `query too complex: depth ${measure.depth} (max ${limits.maxDepth}), cost ${measure.cost} (max ${limits.maxCost})`,
            { nodes: [operation], extensions: { code: 'QUERY_TOO_COMPLEX' } },
          ),
        );
      }
    },
  });
}

function measureSelection(
  selectionSet: SelectionSetNode,
  context: ValidationContext,
  limits: ComplexityLimits,
  seenFragments: Set<string>,
): Measure {
  let depth = 0;
  let cost = 0;
  for (const selection of selectionSet.selections) {
    let child: Measure;
    if (selection.kind === Kind.FIELD) {
      if (selection.name.value.startsWith('__')) continue; // introspection is not billed
      child = measureField(selection, context, limits, seenFragments);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      child = measureSelection(selection.selectionSet, context, limits, seenFragments);
    } else {
      const name = selection.name.value;
      const fragment: FragmentDefinitionNode | null | undefined = context.getFragment(name);
      if (!fragment || seenFragments.has(name)) continue; // cycles are reported by graphql itself
      child = measureSelection(
        fragment.selectionSet,
        context,
        limits,
        new Set(seenFragments).add(name),
      );
    }
    depth = Math.max(depth, child.depth);
    cost += child.cost;
  }
  return { depth, cost };
}

function measureField(
  field: FieldNode,
  context: ValidationContext,
  limits: ComplexityLimits,
  seenFragments: Set<string>,
): Measure {
  if (!field.selectionSet) return { depth: 1, cost: 1 };
  const inner = measureSelection(field.selectionSet, context, limits, seenFragments);
  return { depth: inner.depth + 1, cost: 1 + inner.cost * multiplier(field, limits) };
}

function multiplier(field: FieldNode, limits: ComplexityLimits): number {
  if (NESTED_LISTS.has(field.name.value)) return limits.nestedListSize;
  const first = field.arguments?.find((a) => a.name.value === 'first');
  if (first?.value.kind === Kind.INT)
    return Math.max(1, Math.min(Number(first.value.value), limits.maxPageSize));
  if (first) return limits.maxPageSize;
  return isConnection(field) ? limits.defaultPageSize : 1;
}

function isConnection(field: FieldNode): boolean {
  return (
    field.selectionSet?.selections.some((s) => s.kind === Kind.FIELD && s.name.value === 'edges') ??
    false
  );
}
