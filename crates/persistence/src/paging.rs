//! What the lists that read a page and its total in one statement share.

/// How often a list reads an empty page and its total again (see [`empty_page_settled`]).
const EMPTY_PAGE_READS: u32 = 3;

/// Whether an empty page at `offset`, read `reads` times so far, may be answered with the
/// `total` counted after it. A page with rows carries its total; an empty one (past the end,
/// or nothing matches) does not, so the total is counted next. If that count shows the page
/// should have had rows (they came meanwhile), the list reads both again, so that an answer
/// never has a total its page contradicts.
pub(crate) fn empty_page_settled(total: i64, offset: i64, reads: u32) -> bool {
    total <= offset || reads >= EMPTY_PAGE_READS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_page_is_read_again_only_while_rows_came_meanwhile() {
        assert!(empty_page_settled(0, 0, 1), "nothing matches");
        assert!(empty_page_settled(40, 40, 1), "past the end");
        assert!(!empty_page_settled(1, 0, 1), "a row came: read again");
        assert!(!empty_page_settled(41, 40, 2));
        assert!(
            empty_page_settled(41, 40, EMPTY_PAGE_READS),
            "at most three reads"
        );
    }
}
