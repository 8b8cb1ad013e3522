import { Field, Float, GraphQLISODateTime, Int, ObjectType } from '@nestjs/graphql';

@ObjectType()
export class LaneQueue {
  @Field() lane: string;
  @Field(() => Int) queueDepth: number;
}

@ObjectType({ description: 'Live state of a processor as its workers report it (every second).' })
export class ProcessorHealth {
  @Field() processor: string;
  @Field({ description: 'closed, half_open, open, or unknown when no worker reports' })
  breakerState: string;
  @Field(() => Float, { description: 'failures / calls over the breaker window' })
  errorRate: number;
  @Field(() => Int) calls: number;
  @Field(() => Float, { nullable: true }) latencyP50Ms?: number | null;
  @Field(() => Float, { nullable: true }) latencyP95Ms?: number | null;
  @Field(() => Float, { nullable: true }) latencyP99Ms?: number | null;
  @Field(() => Float, { description: 'current adaptive rate limit, summed over workers' })
  ratePerSecond: number;
  @Field(() => Float) tokens: number;
  @Field(() => [LaneQueue]) lanes: LaneQueue[];
  @Field() paused: boolean;
  @Field(() => String, { nullable: true }) pauseReason?: string | null;
  @Field(() => Int) reportingWorkers: number;
}

@ObjectType()
export class ProcessorControl {
  @Field() processor: string;
  @Field() paused: boolean;
  @Field(() => String, { nullable: true }) reason?: string | null;
  @Field() changedBy: string;
  @Field(() => GraphQLISODateTime) changedAt: Date;
}
