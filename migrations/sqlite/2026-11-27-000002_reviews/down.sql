DROP TABLE review_stats;
DROP TABLE reviews;
