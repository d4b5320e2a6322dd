-- GET /reviews/stats: the store's counter row.
SELECT "review_stats"."total", "review_stats"."rated_1", "review_stats"."rated_2", "review_stats"."rated_3", "review_stats"."rated_4", "review_stats"."rated_5", "review_stats"."approved" FROM "review_stats" WHERE ("review_stats"."store_id" = :store) LIMIT :one;
