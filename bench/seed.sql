-- The benchmark's data: one big store and many small ones, generated inside PostgreSQL.
--
-- Run with psql on a freshly migrated database (`customers migrate`) whose big store was made
-- by `customers store create` (so its owner has a token):
--
--   psql -v seed=42 -v anchor='2026-11-27 00:00:00' -v store_id=store_… -v owner_id=usr_… \
--        -v customers=1000000 -v small_stores=99 -v small_customers=1000 -v heavy_orders=2000 \
--        -f bench/seed.sql
--
-- Deterministic: every value is a hash of a row number and the seed (hashint8extended), never
-- random(), so the same seed and anchor give the same rows whatever the plan or the order of
-- evaluation. Times lie in the three years before the anchor (midnight UTC of the run's day, so
-- that "the last 30 days" always holds orders).
--
-- What it makes, per store (the big one, then `small_stores` stores of `small_customers`):
--   customers   names, emails, phones (most), addresses (70 %), allergens (15 %), 0.5 % blocked;
--               customer 1 of the big store (cust_1000000000001) has `heavy_orders` orders;
--               of the others 25 % never ordered, the rest a geometric number (mean 6.7);
--   orders      1–4 items over 200 products in 15 categories, 4 % cancelled;
--   ledger      the loyalty programme started 7 days before the anchor: orders placed since
--               earned points (1 per 100 minor units) with their ledger entry, a cancelled one
--               also its take-back entry, and every 100th customer has a manual welcome bonus
--               (about 4 % of the orders, ~215,000 entries for 5,000,000 orders). Older orders
--               earned no points (points_earned 0) and have no entry.
--   reviews     one for every 25th order, mostly 4–5 stars, 85 % approved, 30 % answered.
--
-- Every invariant the service keeps holds: stores.customer_count, review_stats, a customer's
-- total_orders / total_spent_minor / last_order_at over the recorded orders, loyalty_points and
-- ledger_seq over the ledger (balance_after the running sum, seq 1, 2, 3 …), and the derived
-- columns first_name_key, email_key and search_text as the service computes them.
-- bench/check.sql verifies them.
--
-- Speed: the secondary indexes of the loaded tables are dropped and rebuilt after the load
-- (their definitions are read from the catalogue, so they stay those of the migrations), rows
-- are inserted in primary-key order, and foreign-key triggers are off during the load
-- (session_replication_role = replica; the rows are made consistent by construction and
-- bench/check.sql checks every reference).

\set ON_ERROR_STOP on
\timing off

BEGIN;
SET LOCAL session_replication_role = replica;
SET LOCAL synchronous_commit = off;
SET LOCAL work_mem = '256MB';
SET LOCAL maintenance_work_mem = '1GB';
SET LOCAL client_min_messages = warning;
-- Cost estimates of generated rows are far off; compiling them would cost more than it saves.
SET LOCAL jit = off;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM customers) THEN
        RAISE EXCEPTION 'bench/seed.sql loads an empty database only: customers has rows';
    END IF;
END
$$;

-- A uniform number in [0, 1) from a row number and a salt (the seed and a purpose).
CREATE FUNCTION pg_temp.u(n bigint, salt bigint) RETURNS double precision
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT ((hashint8extended(n, salt) >> 11) & 9007199254740991)::double precision
                 / 9007199254740992.0 $$;
-- One of an array's elements, picked by a uniform number.
CREATE FUNCTION pg_temp.pick(a text[], x double precision) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT a[1 + floor(x * array_length(a, 1))::int] $$;
-- Times with the service's precision (milliseconds).
CREATE FUNCTION pg_temp.ms(t timestamp) RETURNS timestamp
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT date_trunc('milliseconds', t) $$;
-- Ids: the prefix and 13 decimal digits (a run's clients compute them from the number).
CREATE FUNCTION pg_temp.id(prefix text, n bigint) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT prefix || '_' || (1000000000000 + n)::text $$;

-- A product's price in minor units (45.00–225.00).
CREATE FUNCTION pg_temp.price(product int) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT 4500 + (product * 7919 % 181) * 100::bigint $$;

-- The menu: 40 dishes in 5 variants = 200 products, in 15 categories.
CREATE TEMP TABLE products AS
SELECT p AS no,
       'prod-' || lpad(p::text, 3, '0') AS id,
       dish.name || ' ' || variant.name AS name,
       'cat-' || lpad((dish.no % 15)::text, 2, '0') AS category_id,
       (ARRAY['Pizza', 'Pasta', 'Burgers', 'Salads', 'Sushi', 'Curries', 'Soups', 'Grill',
              'Sandwiches', 'Desserts', 'Drinks', 'Sides', 'Breakfast', 'Kids', 'Vegan'])
           [1 + dish.no % 15] AS category_name,
       pg_temp.price(p) AS price_minor
FROM generate_series(0, 199) AS p,
     LATERAL (SELECT p / 5 AS no,
                     (ARRAY['Margherita', 'Carbonara', 'Cheeseburger', 'Caesar', 'Salmon Nigiri',
                            'Butter Chicken', 'Tomato Soup', 'Ribeye', 'Club Sandwich', 'Tiramisu',
                            'Lemonade', 'Fries', 'Pancakes', 'Kids Nuggets', 'Falafel Bowl',
                            'Pepperoni', 'Bolognese', 'Bacon Burger', 'Greek Salad', 'Maki Roll',
                            'Green Curry', 'Ramen', 'Pork Belly', 'Reuben', 'Brownie',
                            'Iced Tea', 'Onion Rings', 'Omelette', 'Kids Pasta', 'Tofu Stir-fry',
                            'Quattro Formaggi', 'Lasagne', 'Veggie Burger', 'Nicoise',
                            'Tuna Sashimi', 'Dal', 'Pho', 'Lamb Chops', 'Smørrebrød',
                            'Æblekage'])[1 + p / 5] AS name) AS dish,
     LATERAL (SELECT (ARRAY['Small', 'Regular', 'Large', 'Family', 'Deluxe'])[1 + p % 5] AS name)
         AS variant;

-- The stores: the big one (made by the CLI; inserted here only if missing) and the small ones.
CREATE TEMP TABLE plan_stores AS
SELECT 0 AS store_no, :'store_id'::text AS store_id, (:customers)::bigint AS n_customers,
       0::bigint AS customers_before
UNION ALL
SELECT s, 'store_small' || lpad(s::text, 7, '0'), (:small_customers)::bigint,
       (:customers)::bigint + (s - 1)::bigint * (:small_customers)::bigint
FROM generate_series(1, :small_stores) AS s;

INSERT INTO stores (id, name, currency, timezone, minor_units_per_point, customer_count, created_at)
SELECT store_id, 'Benchmark restaurant ' || store_no, 'DKK', 'Europe/Copenhagen', 100, 0,
       timestamp :'anchor' - interval '4 years'
FROM plan_stores
ON CONFLICT (id) DO NOTHING;

-- Customers: number, store, creation time and how many orders they will have placed.
CREATE TEMP TABLE plan_customers AS
SELECT s.store_no, s.store_id, c.no, c.created_at,
       CASE
           WHEN s.store_no = 0 AND i = 1 THEN (:heavy_orders)::bigint
           WHEN pg_temp.u(c.no, :seed * 64 + 2) < 0.25 THEN 0
           ELSE least(200, 1 + floor(ln(1 - pg_temp.u(c.no, :seed * 64 + 3)) / ln(0.85)))::bigint
       END AS n_orders,
       (c.no % 211 = 5) AS blocked
FROM plan_stores AS s,
     generate_series(1, s.n_customers) AS i,
     LATERAL (SELECT s.customers_before + i AS no) AS n,
     LATERAL (SELECT n.no,
                     CASE WHEN s.store_no = 0 AND i = 1
                          THEN timestamp :'anchor' - interval '3 years'
                          ELSE pg_temp.ms(timestamp :'anchor' - interval '3 years'
                                          * pg_temp.u(n.no, :seed * 64 + 1))
                     END AS created_at) AS c;

-- Orders: numbered consecutively customer after customer.
CREATE TEMP TABLE plan_orders AS
SELECT c.store_id, c.no AS cust_no, o.no AS order_no, o.placed_at, o.lines,
       o.cancelled, t.total,
       CASE WHEN o.placed_at >= timestamp :'anchor' - interval '7 days'
            THEN t.total / 100 ELSE 0 END AS points
FROM (SELECT *, (sum(n_orders) OVER (ORDER BY no))::bigint - n_orders AS orders_before
      FROM plan_customers) AS c,
     generate_series(1, c.n_orders) AS j,
     LATERAL (SELECT c.orders_before + j AS no) AS n,
     LATERAL (SELECT n.no,
                     pg_temp.ms(c.created_at + (timestamp :'anchor' - c.created_at)
                                * pg_temp.u(n.no, :seed * 64 + 10)) AS placed_at,
                     1 + floor(4 * pg_temp.u(n.no, :seed * 64 + 11))::int AS lines,
                     pg_temp.u(n.no, :seed * 64 + 12) < 0.04 AS cancelled) AS o,
     LATERAL (SELECT sum(q.quantity * pg_temp.price(q.product))::bigint AS total
              FROM generate_series(1, o.lines) AS l,
                   LATERAL (SELECT floor(200 * pg_temp.u(o.no * 8 + l, :seed * 64 + 20) ^ 2)::int
                                       AS product,
                                   1 + floor(3 * pg_temp.u(o.no * 8 + l, :seed * 64 + 21) ^ 3)::bigint
                                       AS quantity) AS q) AS t;

-- The loyalty ledger, before numbering: earned points, take-backs, welcome bonuses.
CREATE TEMP TABLE plan_ledger AS
SELECT store_id, cust_no, placed_at AS created_at, 1 AS kind, order_no, points AS delta,
       'Order recorded' AS reason, 'order' AS source, NULL::text AS actor_id
FROM plan_orders WHERE points > 0
UNION ALL
SELECT store_id, cust_no, placed_at + interval '20 minutes', 2, order_no, -points,
       'Order cancelled', 'order_cancel', NULL
FROM plan_orders WHERE points > 0 AND cancelled
UNION ALL
SELECT store_id, no, created_at + interval '1 minute', 0, NULL, 100,
       'Welcome bonus', 'manual', CASE WHEN store_no = 0 THEN :'owner_id' END
FROM plan_customers WHERE no % 100 = 0;

CREATE TEMP TABLE totals AS
SELECT cust_no,
       count(*) FILTER (WHERE NOT cancelled) AS orders,
       coalesce(sum(total) FILTER (WHERE NOT cancelled), 0) AS spent,
       max(placed_at) FILTER (WHERE NOT cancelled) AS last_order_at
FROM plan_orders GROUP BY cust_no;
CREATE TEMP TABLE points AS
SELECT cust_no, sum(delta) AS balance, count(*) AS entries FROM plan_ledger GROUP BY cust_no;
ANALYZE plan_customers, plan_orders, plan_ledger, totals, points;

-- The secondary indexes go while the rows come in, and are built again afterwards.
CREATE TEMP TABLE saved_indexes AS
SELECT i.indexname, i.indexdef
FROM pg_indexes AS i
WHERE i.schemaname = current_schema()
  AND i.tablename IN ('customers', 'customer_addresses', 'customer_allergens', 'orders',
                      'order_items', 'ledger_entries', 'reviews')
  AND NOT EXISTS (SELECT 1 FROM pg_constraint AS c WHERE c.conname = i.indexname);
SELECT format('DROP INDEX %I', indexname) FROM saved_indexes \gexec

INSERT INTO customers (store_id, id, first_name, last_name, first_name_key, email, email_key,
                       phone, accepts_marketing, locale, admin_notes, birth_date, search_text,
                       is_blocked, blocked_reason, blocked_at, total_spent_minor, total_orders,
                       last_order_at, loyalty_points, version, created_at, updated_at,
                       ledger_seq)
SELECT c.store_id, pg_temp.id('cust', c.no), p.first_name, p.last_name,
       translate(p.first_name, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'),
       p.email, lower(p.email), p.phone,
       pg_temp.u(c.no, :seed * 64 + 35) < 0.55,
       CASE WHEN pg_temp.u(c.no, :seed * 64 + 36) < 0.85 THEN 'da-DK'
            WHEN pg_temp.u(c.no, :seed * 64 + 36) < 0.95 THEN 'en-GB' ELSE 'de-DE' END,
       CASE WHEN pg_temp.u(c.no, :seed * 64 + 37) < 0.03
            THEN pg_temp.pick(ARRAY['Prefers a window table', 'Regular on Fridays',
                                    'Call before delivery', 'Birthday party every March'],
                              pg_temp.u(c.no, :seed * 64 + 38)) END,
       CASE WHEN pg_temp.u(c.no, :seed * 64 + 39) < 0.4
            THEN date '1950-01-01' + floor(20000 * pg_temp.u(c.no, :seed * 64 + 40))::int END,
       lower(translate(coalesce(p.first_name, '') || ' ' || coalesce(p.last_name, '') || E'\n'
                       || coalesce(p.email, '') || E'\n' || coalesce(p.phone, ''),
                       'ÆØÅÉÜÖ', 'æøåéüö')),
       c.blocked,
       CASE WHEN c.blocked THEN 'Repeated no-shows' END,
       b.blocked_at,
       coalesce(t.spent, 0), coalesce(t.orders, 0), t.last_order_at,
       coalesce(l.balance, 0), 1, c.created_at, greatest(c.created_at, b.blocked_at),
       coalesce(l.entries, 0)
FROM plan_customers AS c
LEFT JOIN totals AS t ON t.cust_no = c.no
LEFT JOIN points AS l ON l.cust_no = c.no,
LATERAL (
    SELECT f.first_name, f.last_name,
           CASE WHEN pg_temp.u(c.no, :seed * 64 + 33) < 0.92
                THEN translate(lower(translate(coalesce(f.first_name, 'guest') || '.'
                                               || coalesce(f.last_name, 'guest'),
                                               'ÆØÅÉÜÖ', 'æøåéüö')),
                               'æøåéüöí ', 'aoaeuoi-')
                     || c.no || '@'
                     || pg_temp.pick(ARRAY['example.com', 'example.dk', 'example.org',
                                           'example.net'], pg_temp.u(c.no, :seed * 64 + 34))
           END AS email,
           CASE WHEN pg_temp.u(c.no, :seed * 64 + 41) < 0.9
                THEN '+45' || (20000000 + c.no)::text END AS phone
    FROM (SELECT
            CASE WHEN pg_temp.u(c.no, :seed * 64 + 30) >= 0.02 THEN pg_temp.pick(ARRAY[
                'Maria', 'Anne', 'Kirsten', 'Mette', 'Hanne', 'Camilla', 'Louise', 'Sofie',
                'Ida', 'Emma', 'Freja', 'Clara', 'Åse', 'Søs', 'Bodil', 'Inge', 'Lærke',
                'Julie', 'Sarah', 'Laura', 'Peter', 'Jens', 'Lars', 'Michael', 'Henrik',
                'Søren', 'Thomas', 'Niels', 'Rasmus', 'Mads', 'Anders', 'Christian', 'Martin',
                'Frederik', 'Mikkel', 'Jørgen', 'Bjørn', 'Øystein', 'Émile', 'William',
                'Oliver', 'Noah', 'Lucas', 'Victor', 'Magnus', 'Aksel', 'Ahmed', 'Fatima',
                'Yusuf', 'Priya', 'Wei', 'Olga', 'Ingrid', 'Nora', 'Elias', 'Karl', 'Johan',
                'Signe', 'Astrid', 'Tove'], pg_temp.u(c.no, :seed * 64 + 31)) END AS first_name,
            pg_temp.pick(ARRAY[
                'Jensen', 'Nielsen', 'Hansen', 'Pedersen', 'Andersen', 'Christensen',
                'Larsen', 'Sørensen', 'Rasmussen', 'Jørgensen', 'Petersen', 'Madsen',
                'Kristensen', 'Olsen', 'Thomsen', 'Christiansen', 'Poulsen', 'Johansen',
                'Møller', 'Mortensen', 'Østergaard', 'Ærø', 'Ørsted', 'Holm', 'Berg',
                'Lund', 'Dahl', 'Kjær', 'Bach', 'Friis', 'Schmidt', 'Müller', 'Khan',
                'Ali', 'Singh', 'Chen', 'Ivanova', 'García', 'Rossi', 'Smith'],
                pg_temp.u(c.no, :seed * 64 + 32)) AS last_name) AS f
) AS p,
LATERAL (SELECT CASE WHEN c.blocked
                     THEN pg_temp.ms(c.created_at + (timestamp :'anchor' - c.created_at)
                                     * pg_temp.u(c.no, :seed * 64 + 42)) END AS blocked_at) AS b
ORDER BY c.no;

INSERT INTO customer_addresses (store_id, id, customer_id, line, zipcode, city, is_default)
SELECT store_id, pg_temp.id('addr', no), pg_temp.id('cust', no),
       pg_temp.pick(ARRAY['Nørregade', 'Vestergade', 'Østerbrogade', 'Strandvejen',
                          'Algade', 'Jernbanegade', 'Kongensgade', 'Havnegade'],
                    pg_temp.u(no, :seed * 64 + 44))
           || ' ' || (1 + floor(150 * pg_temp.u(no, :seed * 64 + 45)))::int,
       (1000 + floor(8990 * pg_temp.u(no, :seed * 64 + 46)))::int::text,
       pg_temp.pick(ARRAY['København', 'Aarhus', 'Odense', 'Aalborg', 'Esbjerg', 'Randers',
                          'Kolding', 'Roskilde'], pg_temp.u(no, :seed * 64 + 47)),
       TRUE
FROM plan_customers
WHERE pg_temp.u(no, :seed * 64 + 43) < 0.7
ORDER BY no;

INSERT INTO customer_allergens (store_id, customer_id, allergen)
SELECT store_id, pg_temp.id('cust', no), a.allergen
FROM plan_customers,
     LATERAL (SELECT floor(14 * pg_temp.u(no, :seed * 64 + 49))::int AS first,
                     1 + floor(13 * pg_temp.u(no, :seed * 64 + 50))::int AS step) AS x,
     LATERAL (SELECT (ARRAY['GLUTEN', 'CRUSTACEANS', 'EGGS', 'FISH', 'PEANUTS', 'SOY', 'DAIRY',
                            'NUTS', 'CELERY', 'MUSTARD', 'SESAME', 'SULPHITES', 'LUPIN',
                            'MOLLUSCS'])[1 + (x.first + k * x.step) % 14] AS allergen
              FROM generate_series(0, CASE WHEN pg_temp.u(no, :seed * 64 + 51) < 0.33
                                           THEN 1 ELSE 0 END) AS k) AS a
WHERE pg_temp.u(no, :seed * 64 + 48) < 0.15;

INSERT INTO orders (store_id, id, customer_id, external_id, status, total_minor, currency,
                    placed_at, cancelled_at, points_earned, request_claim, created_at)
SELECT store_id, pg_temp.id('ord', order_no), pg_temp.id('cust', cust_no),
       'pos-' || order_no,
       CASE WHEN cancelled THEN 'cancelled' ELSE 'recorded' END,
       total, 'DKK', placed_at,
       CASE WHEN cancelled THEN placed_at + interval '20 minutes' END,
       points, NULL, placed_at
FROM plan_orders
ORDER BY order_no;

INSERT INTO order_items (store_id, order_id, line_no, product_id, product_name, category_id,
                         category_name, quantity, unit_price_minor)
SELECT i.store_id, pg_temp.id('ord', i.order_no), i.line - 1, p.id, p.name, p.category_id,
       p.category_name, i.quantity, p.price_minor
FROM (SELECT o.store_id, o.order_no, l AS line,
             floor(200 * pg_temp.u(o.order_no * 8 + l, :seed * 64 + 20) ^ 2)::int AS product,
             1 + floor(3 * pg_temp.u(o.order_no * 8 + l, :seed * 64 + 21) ^ 3)::bigint AS quantity
      FROM plan_orders AS o, generate_series(1, o.lines) AS l) AS i
JOIN products AS p ON p.no = i.product
ORDER BY i.order_no, i.line;

INSERT INTO ledger_entries (store_id, id, customer_id, seq, delta, balance_after, reason, source,
                            order_id, actor_id, request_claim, created_at)
SELECT store_id, pg_temp.id('loy', row_number() OVER (ORDER BY cust_no, created_at, kind)),
       pg_temp.id('cust', cust_no),
       row_number() OVER w, delta, sum(delta) OVER w, reason, source,
       CASE WHEN order_no IS NOT NULL THEN pg_temp.id('ord', order_no) END,
       actor_id, NULL, created_at
FROM plan_ledger
WINDOW w AS (PARTITION BY cust_no ORDER BY created_at, kind ROWS UNBOUNDED PRECEDING)
ORDER BY cust_no, created_at, kind;

INSERT INTO reviews (store_id, id, order_id, customer_id, rating, food_rating, delivery_rating,
                     packaging_rating, comment, is_approved, is_public, is_featured,
                     response_text, responded_at, responded_by, created_at, version)
SELECT o.store_id, pg_temp.id('rev', o.order_no), pg_temp.id('ord', o.order_no),
       pg_temp.id('cust', o.cust_no), r.rating,
       CASE WHEN pg_temp.u(o.order_no, :seed * 64 + 53) < 0.6
            THEN greatest(1, least(5, r.rating + floor(3 * pg_temp.u(o.order_no, :seed * 64 + 54))::int - 1)) END,
       CASE WHEN pg_temp.u(o.order_no, :seed * 64 + 55) < 0.5
            THEN greatest(1, least(5, r.rating + floor(3 * pg_temp.u(o.order_no, :seed * 64 + 56))::int - 1)) END,
       CASE WHEN pg_temp.u(o.order_no, :seed * 64 + 57) < 0.4
            THEN greatest(1, least(5, r.rating + floor(3 * pg_temp.u(o.order_no, :seed * 64 + 58))::int - 1)) END,
       CASE WHEN pg_temp.u(o.order_no, :seed * 64 + 59) < 0.7
            THEN pg_temp.pick(CASE WHEN r.rating >= 4
                                   THEN ARRAY['Lovely food, quick delivery.', 'Best pizza in town!',
                                              'Hot and fresh, as always.', 'Great value.']
                                   ELSE ARRAY['Cold when it arrived.', 'Took over an hour.',
                                              'Missing the drinks.', 'Too salty for me.'] END,
                              pg_temp.u(o.order_no, :seed * 64 + 60)) END,
       m.approved, m.public, m.approved AND m.public AND pg_temp.u(o.order_no, :seed * 64 + 63) < 0.03,
       CASE WHEN m.answered THEN 'Thank you for your feedback!' END,
       CASE WHEN m.answered THEN o.placed_at + interval '1 day' END,
       CASE WHEN m.answered THEN :'owner_id' END,
       o.placed_at + interval '2 hours', 1
FROM plan_orders AS o,
     LATERAL (SELECT CASE WHEN x < 0.03 THEN 1 WHEN x < 0.08 THEN 2 WHEN x < 0.20 THEN 3
                          WHEN x < 0.50 THEN 4 ELSE 5 END AS rating
              FROM (SELECT pg_temp.u(o.order_no, :seed * 64 + 52) AS x) AS x) AS r,
     LATERAL (SELECT pg_temp.u(o.order_no, :seed * 64 + 61) < 0.85 AS approved,
                     pg_temp.u(o.order_no, :seed * 64 + 62) < 0.95 AS public,
                     pg_temp.u(o.order_no, :seed * 64 + 64) < 0.30 AS answered) AS m
WHERE o.order_no % 25 = 0
ORDER BY o.order_no;

INSERT INTO review_stats (store_id, total, rated_1, rated_2, rated_3, rated_4, rated_5, approved)
SELECT store_id, count(*), count(*) FILTER (WHERE rating = 1), count(*) FILTER (WHERE rating = 2),
       count(*) FILTER (WHERE rating = 3), count(*) FILTER (WHERE rating = 4),
       count(*) FILTER (WHERE rating = 5), count(*) FILTER (WHERE is_approved)
FROM reviews GROUP BY store_id
ON CONFLICT (store_id) DO UPDATE SET
    total = excluded.total, rated_1 = excluded.rated_1, rated_2 = excluded.rated_2,
    rated_3 = excluded.rated_3, rated_4 = excluded.rated_4, rated_5 = excluded.rated_5,
    approved = excluded.approved;

UPDATE stores SET customer_count = n.count
FROM (SELECT store_id, count(*) FROM customers GROUP BY store_id) AS n
WHERE stores.id = n.store_id;

SELECT indexdef FROM saved_indexes \gexec

COMMIT;

VACUUM (ANALYZE) customers, customer_addresses, customer_allergens, orders, order_items,
    ledger_entries, reviews, review_stats, stores;
