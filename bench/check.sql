-- The invariants the service keeps, checked over a whole database: run after bench/seed.sql
-- (`psql -f bench/check.sql`). Prints one line per check and fails (exit 3 under
-- ON_ERROR_STOP) on the first one that does not hold.

\set ON_ERROR_STOP on

CREATE TEMP TABLE checks (name text, bad bigint);

INSERT INTO checks
SELECT 'stores.customer_count is the number of customers', count(*)
FROM stores AS s
WHERE s.customer_count <> (SELECT count(*) FROM customers AS c WHERE c.store_id = s.id);

INSERT INTO checks
SELECT 'review_stats match the reviews', count(*)
FROM (SELECT store_id, count(*) AS total,
             count(*) FILTER (WHERE rating = 1) AS r1, count(*) FILTER (WHERE rating = 2) AS r2,
             count(*) FILTER (WHERE rating = 3) AS r3, count(*) FILTER (WHERE rating = 4) AS r4,
             count(*) FILTER (WHERE rating = 5) AS r5,
             count(*) FILTER (WHERE is_approved) AS approved
      FROM reviews GROUP BY store_id) AS r
FULL JOIN review_stats AS s USING (store_id)
WHERE coalesce(r.total, 0) <> coalesce(s.total, 0)
   OR (r.r1, r.r2, r.r3, r.r4, r.r5, r.approved)
      IS DISTINCT FROM (s.rated_1, s.rated_2, s.rated_3, s.rated_4, s.rated_5, s.approved)
      AND coalesce(r.total, 0) > 0;

INSERT INTO checks
SELECT 'customer totals are those of their recorded orders', count(*)
FROM customers AS c
LEFT JOIN (SELECT store_id, customer_id, count(*) AS n, sum(total_minor) AS spent,
                  max(placed_at) AS last_at
           FROM orders WHERE status = 'recorded' AND customer_id IS NOT NULL
           GROUP BY store_id, customer_id) AS o
       ON o.store_id = c.store_id AND o.customer_id = c.id
WHERE c.total_orders <> coalesce(o.n, 0)
   OR c.total_spent_minor <> coalesce(o.spent, 0)
   OR c.last_order_at IS DISTINCT FROM o.last_at;

INSERT INTO checks
SELECT 'loyalty_points and ledger_seq are the sum and count of the ledger', count(*)
FROM customers AS c
LEFT JOIN (SELECT store_id, customer_id, sum(delta) AS balance, count(*) AS n, max(seq) AS top
           FROM ledger_entries GROUP BY store_id, customer_id) AS l
       ON l.store_id = c.store_id AND l.customer_id = c.id
WHERE c.loyalty_points <> coalesce(l.balance, 0)
   OR c.ledger_seq <> coalesce(l.n, 0)
   OR c.ledger_seq <> coalesce(l.top, 0);

INSERT INTO checks
SELECT 'balance_after is the running sum of the ledger', count(*)
FROM (SELECT balance_after,
             sum(delta) OVER (PARTITION BY store_id, customer_id ORDER BY seq) AS running
      FROM ledger_entries) AS l
WHERE balance_after <> running;

INSERT INTO checks
SELECT 'an order''s points have their ledger entry', count(*)
FROM orders AS o
LEFT JOIN (SELECT store_id, order_id, count(*) AS n, sum(delta) AS delta
           FROM ledger_entries WHERE source = 'order' GROUP BY store_id, order_id) AS l
       ON l.store_id = o.store_id AND l.order_id = o.id
WHERE (o.customer_id IS NOT NULL AND (o.points_earned > 0) <> (l.n IS NOT NULL))
   OR l.n <> 1 OR l.delta <> o.points_earned;

INSERT INTO checks
SELECT 'an order''s total is the sum of its items', count(*)
FROM orders AS o
JOIN (SELECT store_id, order_id, sum(quantity * unit_price_minor) AS total
      FROM order_items GROUP BY store_id, order_id) AS i
  ON i.store_id = o.store_id AND i.order_id = o.id
WHERE o.total_minor <> i.total;

INSERT INTO checks
SELECT 'derived columns are as the service computes them', count(*)
FROM customers
WHERE first_name_key IS DISTINCT FROM
          translate(first_name, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')
   OR email_key IS DISTINCT FROM lower(email)
   OR search_text <> lower(translate(coalesce(first_name, '') || ' ' || coalesce(last_name, '')
                                     || E'\n' || coalesce(email, '') || E'\n'
                                     || coalesce(phone, ''), 'ÆØÅÉÜÖ', 'æøåéüö'))
   OR search_text ~ '[A-ZÆØÅÉÜÖ]';

INSERT INTO checks
SELECT 'references lead to existing rows', (
      (SELECT count(*) FROM customers AS c
       WHERE NOT EXISTS (SELECT 1 FROM stores AS s WHERE s.id = c.store_id))
    + (SELECT count(*) FROM customer_addresses AS a
       WHERE NOT EXISTS (SELECT 1 FROM customers AS c
                         WHERE c.store_id = a.store_id AND c.id = a.customer_id))
    + (SELECT count(*) FROM customer_allergens AS a
       WHERE NOT EXISTS (SELECT 1 FROM customers AS c
                         WHERE c.store_id = a.store_id AND c.id = a.customer_id))
    + (SELECT count(*) FROM orders AS o
       WHERE o.customer_id IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM customers AS c
                         WHERE c.store_id = o.store_id AND c.id = o.customer_id))
    + (SELECT count(*) FROM order_items AS i
       WHERE NOT EXISTS (SELECT 1 FROM orders AS o
                         WHERE o.store_id = i.store_id AND o.id = i.order_id))
    + (SELECT count(*) FROM ledger_entries AS l
       WHERE NOT EXISTS (SELECT 1 FROM customers AS c
                         WHERE c.store_id = l.store_id AND c.id = l.customer_id))
    + (SELECT count(*) FROM ledger_entries AS l
       WHERE l.order_id IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM orders AS o
                         WHERE o.store_id = l.store_id AND o.id = l.order_id))
    + (SELECT count(*) FROM reviews AS r
       WHERE NOT EXISTS (SELECT 1 FROM orders AS o
                         WHERE o.store_id = r.store_id AND o.id = r.order_id
                           AND o.customer_id IS NOT DISTINCT FROM r.customer_id)));

SELECT CASE WHEN bad = 0 THEN 'ok    ' ELSE 'FAILED' END || ' ' || name
       || CASE WHEN bad = 0 THEN '' ELSE ' (' || bad || ' rows)' END AS "check"
FROM checks;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM checks WHERE bad <> 0) THEN
        RAISE EXCEPTION 'the benchmark data breaks an invariant of the service';
    END IF;
END
$$;
