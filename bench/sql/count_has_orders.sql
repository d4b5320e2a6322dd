-- hasOrders=true
SELECT COUNT(*) FROM "customers" WHERE (("customers"."store_id" = :store) AND ("customers"."total_orders" > :zero));
