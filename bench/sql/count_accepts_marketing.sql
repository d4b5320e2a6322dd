-- acceptsMarketing=true
SELECT COUNT(*) FROM "customers" WHERE (("customers"."store_id" = :store) AND ("customers"."accepts_marketing" = :yes));
