-- minSpent=… with lastOrderPeriod=30d: the total alone.
SELECT COUNT(*) FROM "customers" WHERE ((("customers"."store_id" = :store) AND ("customers"."total_spent_minor" >= :min_spent)) AND ("customers"."last_order_at" >= :since));
