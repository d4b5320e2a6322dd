//! What keyset pages and bounded counts add to diesel's queries, on both backends.

use diesel::QueryResult;
use diesel::backend::Backend;
use diesel::expression::{AppearsOnTable, Expression, ValidGrouping, is_aggregate};
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Bool};

/// `(column, id) > (value, after)` or `<`: the row-value comparison a keyset page starts
/// with. Diesel has no row values, and the equivalent `column > value OR (column = value AND
/// id > after)` would not be served from the index as a range.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RowCompare<C, I, V, A> {
    pub(crate) column: C,
    pub(crate) id: I,
    pub(crate) value: V,
    pub(crate) after: A,
    /// `>` rather than `<`.
    pub(crate) greater: bool,
}

impl<C, I, V, A> Expression for RowCompare<C, I, V, A> {
    type SqlType = Bool;
}

impl<C, I, V, A, QS> AppearsOnTable<QS> for RowCompare<C, I, V, A>
where
    C: AppearsOnTable<QS>,
    I: AppearsOnTable<QS>,
    V: AppearsOnTable<QS>,
    A: AppearsOnTable<QS>,
{
}

impl<C, I, V, A> ValidGrouping<()> for RowCompare<C, I, V, A> {
    type IsAggregate = is_aggregate::Never;
}

/// Its SQL depends on `greater`, which its type does not tell: never cached by type.
impl<C, I, V, A> QueryId for RowCompare<C, I, V, A> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<C, I, V, A, DB> QueryFragment<DB> for RowCompare<C, I, V, A>
where
    DB: Backend,
    C: QueryFragment<DB>,
    I: QueryFragment<DB>,
    V: QueryFragment<DB>,
    A: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("(");
        self.column.walk_ast(out.reborrow())?;
        out.push_sql(", ");
        self.id.walk_ast(out.reborrow())?;
        out.push_sql(if self.greater { ") > (" } else { ") < (" });
        self.value.walk_ast(out.reborrow())?;
        out.push_sql(", ");
        self.after.walk_ast(out.reborrow())?;
        out.push_sql(")");
        Ok(())
    }
}

/// `SELECT COUNT(*) FROM (<rows>) AS counted`: counts what `rows` (a query with a LIMIT)
/// reads, so a count stops at the limit instead of reading every match.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CountOf<Q>(pub(crate) Q);

impl<Q> Query for CountOf<Q> {
    type SqlType = BigInt;
}

impl<Q> QueryId for CountOf<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: QueryFragment<DB>, DB: Backend> QueryFragment<DB> for CountOf<Q> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("SELECT COUNT(*) FROM (");
        self.0.walk_ast(out.reborrow())?;
        out.push_sql(") AS counted");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::customers;
    use diesel::sql_types::Text;
    use diesel::{IntoSql, QueryDsl};

    #[test]
    fn row_values_and_bounded_counts_render_for_both_backends() {
        use diesel::debug_query;
        use diesel::pg::Pg;
        use diesel::sqlite::Sqlite;

        let compare = customers::table
            .filter(RowCompare {
                column: customers::created_at,
                id: customers::id,
                value: 5_i64.into_sql::<BigInt>(),
                after: "cust_1".into_sql::<Text>(),
                greater: false,
            })
            .select(customers::id);
        let sql = debug_query::<Pg, _>(&compare).to_string();
        assert!(
            sql.contains(r#"("customers"."created_at", "customers"."id") < ($1, $2)"#),
            "{sql}"
        );
        let counted = CountOf(customers::table.select(customers::id).limit(10_001));
        let sql = debug_query::<Sqlite, _>(&counted).to_string();
        assert!(sql.starts_with("SELECT COUNT(*) FROM (SELECT"), "{sql}");
        assert!(sql.contains("LIMIT ?) AS counted"), "{sql}");
    }
}
