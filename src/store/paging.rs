//! Pages of a list, the same way for every list and every database: a cursor
//! becomes a bound on the list's insertion sequence, and the rows fetched
//! past it become a newest-first page.

/// Where a page of a list starts, by the id of an object of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cursor<Id> {
    /// The newest objects.
    Start,
    /// Objects older than this one.
    StartingAfter(Id),
    /// Objects newer than this one.
    EndingBefore(Id),
}

impl<Id> Cursor<Id> {
    /// The object the cursor names, if any.
    pub fn id(&self) -> Option<&Id> {
        match self {
            Self::Start => None,
            Self::StartingAfter(id) | Self::EndingBefore(id) => Some(id),
        }
    }
}

/// One page of a list, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The objects.
    pub data: Vec<T>,
    /// Whether more objects lie beyond this page in the direction of travel.
    pub has_more: bool,
}

/// Which rows of a list a page reads, by insertion sequence (`seq`): every
/// list is ordered by a sequence that never repeats, so a cursor is a bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// The newest rows, newest first.
    Newest,
    /// Rows older than this sequence number, newest first.
    OlderThan(i64),
    /// Rows newer than this sequence number, oldest first (the page is then
    /// turned around).
    NewerThan(i64),
}

impl Bound {
    /// The bound for `cursor`, whose object has sequence number `seq` (`None`
    /// for [`Cursor::Start`]).
    pub fn new<Id>(cursor: &Cursor<Id>, seq: Option<i64>) -> Self {
        match (cursor, seq) {
            (Cursor::StartingAfter(_), Some(seq)) => Self::OlderThan(seq),
            (Cursor::EndingBefore(_), Some(seq)) => Self::NewerThan(seq),
            _ => Self::Newest,
        }
    }

    /// How many rows to fetch for a page of `limit`: one more, to learn
    /// whether there are more.
    pub fn fetch(limit: u32) -> i64 {
        i64::from(limit) + 1
    }

    /// The page made of `fetched` rows (read with [`Bound::fetch`]).
    pub fn page<T>(self, mut fetched: Vec<T>, limit: u32) -> Page<T> {
        let limit = limit as usize;
        let has_more = fetched.len() > limit;
        fetched.truncate(limit);
        if matches!(self, Self::NewerThan(_)) {
            fetched.reverse();
        }
        Page {
            data: fetched,
            has_more,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backwards_page_is_turned_newest_first_and_knows_there_is_more() {
        let bound = Bound::new(&Cursor::EndingBefore("x"), Some(3));
        assert_eq!(bound, Bound::NewerThan(3));
        let page = bound.page(vec![4, 5, 6], 2);
        assert_eq!(
            page,
            Page {
                data: vec![5, 4],
                has_more: true
            }
        );
    }

    #[test]
    fn a_short_page_has_no_more() {
        let page = Bound::Newest.page(vec![9, 8], 2);
        assert!(!page.has_more);
        assert_eq!(page.data, vec![9, 8]);
        assert_eq!(Bound::fetch(2), 3);
    }
}
