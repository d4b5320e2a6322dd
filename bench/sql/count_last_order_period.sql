-- lastOrderPeriod=30d
SELECT COUNT(*) FROM "customers" WHERE (("customers"."store_id" = :store) AND ("customers"."last_order_at" >= :since));
