-- GET /customers/:id/analytics: the customer exists; count and sum; the item lines of the
-- recorded orders (ranked into top products and categories by the service).
SELECT "customers"."id" FROM "customers" WHERE (("customers"."store_id" = :store) AND ("customers"."id" = :heavy)) LIMIT :one;
SELECT COUNT(*), CAST(SUM(orders.total_minor) AS BIGINT) FROM "orders" WHERE ((("orders"."store_id" = :store) AND ("orders"."customer_id" = :heavy)) AND ("orders"."status" = :recorded));
SELECT "order_items"."order_id", "order_items"."product_id", "order_items"."product_name", "order_items"."category_id", "order_items"."category_name" FROM "order_items" WHERE (("order_items"."store_id" = :store) AND ("order_items"."order_id" = ANY(SELECT "orders"."id" FROM "orders" WHERE ((("orders"."store_id" = :store) AND ("orders"."customer_id" = :heavy)) AND ("orders"."status" = :recorded)))));
