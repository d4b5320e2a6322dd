-- GET /customers: the unfiltered total, the store's counter.
SELECT "stores"."customer_count" FROM "stores" WHERE ("stores"."id" = :store) LIMIT :one;
