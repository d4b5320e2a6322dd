-- isBlocked=true
SELECT COUNT(*) FROM "customers" WHERE (("customers"."store_id" = :store) AND ("customers"."is_blocked" = :yes));
