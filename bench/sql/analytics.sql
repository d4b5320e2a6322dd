-- GET /customers/:id/analytics: the customer's totals (kept by every order); the item lines
-- of the recorded orders (ranked into top products and categories by the service).
SELECT "customers"."total_orders", "customers"."total_spent_minor" FROM "customers" WHERE (("customers"."store_id" = :store) AND ("customers"."id" = :heavy)) LIMIT :one;
SELECT "order_items"."order_id", "order_items"."product_id", "order_items"."product_name", "order_items"."category_id", "order_items"."category_name" FROM "order_items" WHERE (("order_items"."store_id" = :store) AND ("order_items"."order_id" = ANY(SELECT "orders"."id" FROM "orders" WHERE ((("orders"."store_id" = :store) AND ("orders"."customer_id" = :heavy)) AND ("orders"."status" = :recorded)))));
