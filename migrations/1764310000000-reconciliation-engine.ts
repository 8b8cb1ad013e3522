import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the reconciliation engine needs beside the schema of 1764300000000: prefixed,
 * time-sortable exception ids (`rex_` + 26 lower-case Crockford base32 characters, the shape
 * of `newId`) generated inside the set-based statements that open exceptions.
 */
export class ReconciliationEngine1764310000000 implements MigrationInterface {
  name = 'ReconciliationEngine1764310000000';

  async up(db: QueryRunner): Promise<void> {
    // (refunds are already looked up by processor_reference: index of WebhookEvents1763950000000)
    // 10 characters of milliseconds since the epoch, then 16 random ones (as a ULID).
    await db.query(`
      CREATE FUNCTION reconciliation_new_id(prefix text) RETURNS text LANGUAGE sql VOLATILE AS $$
        SELECT prefix || '_' || string_agg(
          substr('0123456789abcdefghjkmnpqrstvwxyz',
            (CASE WHEN i < 10
               THEN (floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint >> (5 * (9 - i))) & 31
               ELSE floor(random() * 32)::bigint END)::int + 1, 1),
          '' ORDER BY i)
        FROM generate_series(0, 25) AS i
      $$`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP FUNCTION IF EXISTS reconciliation_new_id(text)`);
  }
}
