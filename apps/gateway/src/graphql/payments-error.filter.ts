import { Catch } from '@nestjs/common';
import { GqlExceptionFilter } from '@nestjs/graphql';
import { PaymentsError } from '../../../../libs/domain/src';

/**
 * Client errors are expected: hand them to GraphQL untouched (the error formatter maps them)
 * instead of letting Nest log each one as an unhandled exception.
 */
@Catch(PaymentsError)
export class PaymentsErrorFilter implements GqlExceptionFilter {
  catch(error: PaymentsError): PaymentsError {
    return error;
  }
}
