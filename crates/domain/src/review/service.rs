//! The review use cases: create, read, list, statistics, moderate, respond, delete.

use std::sync::Arc;

use chrono_tz::Tz;

use crate::access::{Action, Principal};
use crate::days::DayRange;
use crate::ids::{CustomerId, ReviewId};
use crate::keyset::{
    Binding, ListRequest, Listing, Paging, PagingParams, Position, Slice, Total, TotalMode,
};
use crate::order::OrderRepository;
use crate::page::Page;
use crate::ports::{RepoError, System};
use crate::review::error::ReviewError;
use crate::review::model::{
    Moderation, ModerationChange, Rating, Review, ReviewFilter, ReviewInput, ReviewResponse,
    ReviewStats, parse_response_text,
};
use crate::review::ports::ReviewRepository;
use crate::store::StoreRepository;
use crate::store::timezone_if;
use crate::validation::ValidationErrors;

/// The list's query parameters as they arrive (numbers and booleans already typed).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReviewListParams {
    /// `page`, from 1.
    pub page: Option<i64>,
    /// `limit`, 1–100 (default 20).
    pub limit: Option<i64>,
    /// `after`: a cursor of this list, or empty for its first page.
    pub after: Option<String>,
    /// `before`: a cursor of this list, or empty for its last page.
    pub before: Option<String>,
    /// `total`: `exact`, `bounded` or `none`.
    pub total: Option<String>,
    /// `isApproved`.
    pub is_approved: Option<bool>,
    /// `isFeatured`.
    pub is_featured: Option<bool>,
    /// `hasResponse`.
    pub has_response: Option<bool>,
    /// `minRating`, 1–5.
    pub min_rating: Option<i64>,
    /// `customerId`.
    pub customer_id: Option<String>,
    /// `dateFrom`, `YYYY-MM-DD`: the first day, in the store's time zone.
    pub date_from: Option<String>,
    /// `dateTo`, `YYYY-MM-DD`: the last day, included.
    pub date_to: Option<String>,
}

impl ReviewListParams {
    fn has_dates(&self) -> bool {
        self.date_from.is_some() || self.date_to.is_some()
    }

    /// Validates every parameter; dates are whole days in `timezone`, both inclusive.
    pub fn validate(&self, timezone: Tz) -> Result<ListRequest<ReviewFilter>, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let binding = Binding::of(&format!(
            "reviews|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
            self.is_approved,
            self.is_featured,
            self.has_response,
            self.min_rating,
            self.customer_id,
            self.date_from,
            self.date_to,
        ));
        let paging = PagingParams {
            page: self.page,
            limit: self.limit,
            after: self.after.clone(),
            before: self.before.clone(),
            total: self.total.clone(),
        };
        let (paging, total) = paging.validate(
            binding,
            |p| p.fits_newest(|id| ReviewId::parse(id).is_some()),
            &mut errors,
        );
        let min_rating = self
            .min_rating
            .and_then(|r| errors.check("minRating", Rating::parse(r)));
        let customer_id = self.customer_id.as_deref().and_then(|id| {
            let parsed = CustomerId::parse(id);
            if parsed.is_none() {
                errors.add("customerId", "is not a customer id");
            }
            parsed
        });
        let dates = DayRange::validate(
            self.date_from.as_deref(),
            self.date_to.as_deref(),
            timezone,
            &mut errors,
        );
        let filter = ReviewFilter {
            is_approved: self.is_approved,
            is_featured: self.is_featured,
            has_response: self.has_response,
            min_rating,
            customer_id,
            created_from: dates.from,
            created_before: dates.before,
        };
        errors.into_result(|| ListRequest {
            filter,
            paging,
            total,
            binding,
        })
    }
}

/// How often a moderation change is retried when another one came first.
const MODERATION_ATTEMPTS: usize = 5;

/// Creating, reading, listing, moderating, answering and deleting reviews, and their
/// statistics.
pub struct ReviewService<R, O, S> {
    reviews: Arc<R>,
    orders: Arc<O>,
    stores: Arc<S>,
    system: System,
}

impl<R, O, S> Clone for ReviewService<R, O, S> {
    fn clone(&self) -> Self {
        Self {
            reviews: Arc::clone(&self.reviews),
            orders: Arc::clone(&self.orders),
            stores: Arc::clone(&self.stores),
            system: self.system.clone(),
        }
    }
}

impl<R: ReviewRepository, O: OrderRepository, S: StoreRepository> ReviewService<R, O, S> {
    /// The use cases over these stores, reading the time and new ids from `system`.
    pub fn new(reviews: Arc<R>, orders: Arc<O>, stores: Arc<S>, system: System) -> Self {
        Self {
            reviews,
            orders,
            stores,
            system,
        }
    }

    /// A review of an order of the caller's store; one per order. The customer is the order's
    /// and may not be contradicted.
    pub async fn create(
        &self,
        caller: &Principal,
        input: &ReviewInput,
    ) -> Result<Review, ReviewError> {
        caller.may(Action::CreateReview)?;
        let valid = input.validate()?;
        let order = self
            .orders
            .find(&caller.store_id, &valid.order_id)
            .await?
            .ok_or_else(|| ValidationErrors::single("orderId", "is not an order of this store"))?;
        if let Some(given) = &valid.customer_id
            && order.customer_id.as_ref() != Some(given)
        {
            return Err(ValidationErrors::single(
                "customerId",
                "is not the customer of this order",
            )
            .into());
        }
        let review = Review {
            id: ReviewId::from_stored(self.system.new_id(ReviewId::PREFIX)),
            store_id: caller.store_id.clone(),
            order_id: order.id,
            customer_id: order.customer_id,
            rating: valid.rating,
            food_rating: valid.food_rating,
            delivery_rating: valid.delivery_rating,
            packaging_rating: valid.packaging_rating,
            comment: valid.comment,
            moderation: Moderation::NEW,
            response: None,
            created_at: self.system.now(),
            version: 1,
        };
        self.reviews.insert(&review).await?;
        Ok(review)
    }

    /// The review with this id in the caller's store; a malformed id is `NotFound`.
    pub async fn get(&self, caller: &Principal, id: &str) -> Result<Review, ReviewError> {
        caller.may(Action::GetReview)?;
        let id = ReviewId::parse(id).ok_or(ReviewError::NotFound)?;
        self.reviews
            .find(&caller.store_id, &id)
            .await?
            .ok_or(ReviewError::NotFound)
    }

    /// Newest first, by page number with the exact total or by cursor with the total as
    /// asked.
    pub async fn list(
        &self,
        caller: &Principal,
        params: &ReviewListParams,
    ) -> Result<Listing<Review>, ReviewError> {
        caller.may(Action::ListReviews)?;
        let timezone = timezone_if(&*self.stores, &caller.store_id, params.has_dates()).await?;
        let request = params.validate(timezone)?;
        let (store, filter) = (&caller.store_id, &request.filter);
        let seek = match request.paging {
            Paging::Numbered(page) => {
                let (items, total) = self.reviews.list(store, filter, page).await?;
                return Ok(Listing::Page(Page {
                    items,
                    total,
                    request: page,
                }));
            }
            Paging::Keyset(seek) => seek,
        };
        let rows = self.reviews.seek(store, filter, &seek).await?;
        let total = match request.total {
            TotalMode::None => None,
            mode => {
                let limit = mode.count_limit();
                let found = self.reviews.count(store, filter, limit).await?;
                Some(Total::counted(found, limit))
            }
        };
        Ok(Listing::Slice(Slice::from_rows(
            rows,
            &seek,
            request.binding,
            |review| Position::newest(review.created_at, review.id.as_str()),
            total,
        )))
    }

    /// The caller's store's review statistics.
    pub async fn stats(&self, caller: &Principal) -> Result<ReviewStats, ReviewError> {
        caller.may(Action::ReviewStats)?;
        Ok(self.reviews.stats(&caller.store_id).await?)
    }

    /// Changes approval, visibility and featuring under the moderation rules.
    pub async fn moderate(
        &self,
        caller: &Principal,
        id: &str,
        change: ModerationChange,
    ) -> Result<Review, ReviewError> {
        caller.may(Action::ModerateReview)?;
        let id = ReviewId::parse(id).ok_or(ReviewError::NotFound)?;
        let repo = &self.reviews;
        for _ in 0..MODERATION_ATTEMPTS {
            let current = repo
                .find(&caller.store_id, &id)
                .await?
                .ok_or(ReviewError::NotFound)?;
            let moderation = current.moderation.apply(change)?;
            if moderation == current.moderation {
                return Ok(current);
            }
            if repo
                .set_moderation(&caller.store_id, &id, moderation, current.version)
                .await?
            {
                return Ok(Review {
                    moderation,
                    version: current.version + 1,
                    ..current
                });
            }
        }
        Err(ReviewError::Storage(RepoError::Internal(
            "the review kept changing during moderation".into(),
        )))
    }

    /// Adds or replaces the store's response; the caller is recorded as the responder.
    pub async fn respond(
        &self,
        caller: &Principal,
        id: &str,
        text: Option<&str>,
    ) -> Result<Review, ReviewError> {
        caller.may(Action::RespondToReview)?;
        let text = parse_response_text(text)?;
        let responder = caller.user_id().cloned().ok_or(ReviewError::Forbidden)?;
        let id = ReviewId::parse(id).ok_or(ReviewError::NotFound)?;
        let response = ReviewResponse {
            text,
            responded_at: self.system.now(),
            responded_by: responder,
        };
        if !self
            .reviews
            .respond(&caller.store_id, &id, &response)
            .await?
        {
            return Err(ReviewError::NotFound);
        }
        self.get(caller, id.as_str()).await
    }

    /// Deletes the review for good; a malformed or unknown id is `NotFound`.
    pub async fn delete(&self, caller: &Principal, id: &str) -> Result<(), ReviewError> {
        caller.may(Action::DeleteReview)?;
        let id = ReviewId::parse(id).ok_or(ReviewError::NotFound)?;
        if self.reviews.delete(&caller.store_id, &id).await? {
            Ok(())
        } else {
            Err(ReviewError::NotFound)
        }
    }
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::access::{Holder, Role};
    use crate::ids::{CustomerId, OrderId};
    use crate::order::{Order, OrderStatus};
    use crate::store::StoreSettings;
    use crate::testing::{TestPorts, now, ready, staff, store_id};

    fn service(
        ports: TestPorts,
    ) -> ReviewService<impl ReviewRepository, impl OrderRepository, impl StoreRepository> {
        ports.review_service()
    }

    fn order(customer: Option<&str>) -> Order {
        Order {
            id: OrderId::parse("ord_000000000001").unwrap(),
            store_id: store_id(),
            customer_id: customer.map(|c| CustomerId::parse(c).unwrap()),
            external_id: None,
            status: OrderStatus::Recorded,
            total_minor: 100,
            currency: "DKK".into(),
            placed_at: now(),
            cancelled_at: None,
            points_earned: 1,
            items: vec![],
            recorded_by: None,
            cancelled_by: None,
        }
    }

    fn input(customer: Option<&str>) -> ReviewInput {
        ReviewInput {
            order_id: Some("ord_000000000001".into()),
            customer_id: customer.map(str::to_owned),
            rating: Some(5),
            ..ReviewInput::default()
        }
    }

    fn stored(moderation: Moderation, version: i64) -> Review {
        Review {
            id: ReviewId::parse("rev_000000000001").unwrap(),
            store_id: store_id(),
            order_id: OrderId::parse("ord_000000000001").unwrap(),
            customer_id: None,
            rating: Rating::parse(4).unwrap(),
            food_rating: None,
            delivery_rating: None,
            packaging_rating: None,
            comment: None,
            moderation,
            response: None,
            created_at: now(),
            version,
        }
    }

    #[tokio::test]
    async fn a_review_takes_the_orders_customer_and_starts_unapproved() {
        let mut ports = TestPorts::new();
        ports
            .orders
            .expect_find()
            .returning(|_, _| ready(Ok(Some(order(Some("cust_000000000009"))))));
        ports
            .reviews
            .expect_insert()
            .withf(|r| {
                r.customer_id.as_ref().map(|c| c.as_str()) == Some("cust_000000000009")
                    && r.moderation == Moderation::NEW
                    && r.store_id == store_id()
                    && r.created_at == now()
            })
            .times(1)
            .returning(|_| ready(Ok(())));
        let review = service(ports)
            .create(&staff(Role::Staff), &input(None))
            .await
            .unwrap();
        assert_eq!(review.rating.value(), 5);
    }

    #[tokio::test]
    async fn a_review_may_not_contradict_its_order() {
        let mut ports = TestPorts::new();
        ports
            .orders
            .expect_find()
            .returning(|_, _| ready(Ok(Some(order(Some("cust_000000000009"))))));
        ports.reviews.expect_insert().never();
        let error = service(ports)
            .create(&staff(Role::Staff), &input(Some("cust_000000000008")))
            .await
            .unwrap_err();
        assert!(matches!(error, ReviewError::Invalid(e) if e.fields()[0].field == "customerId"));
    }

    #[tokio::test]
    async fn a_review_needs_an_order_of_the_store_and_one_per_order() {
        let mut ports = TestPorts::new();
        let mut found = vec![None, Some(order(None))].into_iter();
        ports
            .orders
            .expect_find()
            .returning(move |_, _| ready(Ok(found.next().unwrap())));
        ports
            .reviews
            .expect_insert()
            .times(1)
            .returning(|_| ready(Err(ReviewError::AlreadyReviewed)));
        let service = service(ports);
        let missing = service
            .create(&staff(Role::Staff), &input(None))
            .await
            .unwrap_err();
        assert!(matches!(missing, ReviewError::Invalid(e) if e.fields()[0].field == "orderId"));
        let twice = service
            .create(&staff(Role::Staff), &input(None))
            .await
            .unwrap_err();
        assert!(matches!(twice, ReviewError::AlreadyReviewed));
    }

    #[tokio::test]
    async fn featuring_an_unapproved_review_writes_nothing() {
        let mut ports = TestPorts::new();
        ports
            .reviews
            .expect_find()
            .returning(|_, _| ready(Ok(Some(stored(Moderation::NEW, 1)))));
        ports.reviews.expect_set_moderation().never();
        let change = ModerationChange {
            is_featured: Some(true),
            ..ModerationChange::default()
        };
        let error = service(ports)
            .moderate(&staff(Role::Manager), "rev_000000000001", change)
            .await
            .unwrap_err();
        assert!(matches!(error, ReviewError::NotFeaturable(_)));
    }

    #[tokio::test]
    async fn moderation_retries_after_a_concurrent_change() {
        let mut ports = TestPorts::new();
        let mut version = 0;
        ports.reviews.expect_find().returning(move |_, _| {
            version += 1;
            ready(Ok(Some(stored(Moderation::NEW, version))))
        });
        ports
            .reviews
            .expect_set_moderation()
            .times(2)
            .returning(|_, _, moderation, expected| {
                assert!(moderation.is_approved);
                ready(Ok(expected == 2))
            });
        let change = ModerationChange {
            is_approved: Some(true),
            ..ModerationChange::default()
        };
        let review = service(ports)
            .moderate(&staff(Role::Manager), "rev_000000000001", change)
            .await
            .unwrap();
        assert_eq!((review.version, review.moderation.is_approved), (3, true));
    }

    #[tokio::test]
    async fn only_staff_users_respond_and_texts_are_checked_first() {
        let mut ports = TestPorts::new();
        ports.reviews.expect_respond().never();
        let service = service(ports);
        let empty = service
            .respond(&staff(Role::Manager), "rev_000000000001", Some(" "))
            .await;
        assert!(matches!(empty, Err(ReviewError::Invalid(_))));
        let mut key = staff(Role::Owner);
        key.holder = Holder::ApiKey {
            name: "pos".into(),
            scopes: vec![],
        };
        let by_key = service
            .respond(&key, "rev_000000000001", Some("Thanks"))
            .await;
        assert!(matches!(by_key, Err(ReviewError::Forbidden)));
    }

    #[tokio::test]
    async fn a_response_names_its_responder() {
        let mut ports = TestPorts::new();
        ports
            .reviews
            .expect_respond()
            .withf(|_, _, r| {
                r.text == "Thanks"
                    && r.responded_by.as_str() == "usr_aaaaaaaaaaaa"
                    && r.responded_at == now()
            })
            .returning(|_, _, _| ready(Ok(false)));
        let missing = service(ports)
            .respond(&staff(Role::Manager), "rev_000000000001", Some("Thanks"))
            .await;
        assert!(matches!(missing, Err(ReviewError::NotFound)));
    }

    #[tokio::test]
    async fn date_filters_are_whole_local_days() {
        let mut ports = TestPorts::new();
        ports.stores.expect_find().returning(|id| {
            ready(Ok(Some(
                StoreSettings::default()
                    .validate(id.clone(), now())
                    .unwrap(),
            )))
        });
        ports
            .reviews
            .expect_list()
            .withf(|_, filter, _| {
                filter.created_from == Some("2026-03-14T23:00:00Z".parse().unwrap())
                    && filter.created_before == Some("2026-03-15T23:00:00Z".parse().unwrap())
            })
            .returning(|_, _, _| ready(Ok((vec![], 0))));
        let params = ReviewListParams {
            date_from: Some("2026-03-15".into()),
            date_to: Some("2026-03-15".into()),
            ..ReviewListParams::default()
        };
        service(ports)
            .list(&staff(Role::Staff), &params)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn bad_list_parameters_are_refused_before_querying() {
        let mut ports = TestPorts::new();
        ports.reviews.expect_list().never();
        let params = ReviewListParams {
            min_rating: Some(0),
            date_from: Some("2026-03-16".into()),
            date_to: Some("2026-03-15".into()),
            customer_id: Some("maria".into()),
            ..ReviewListParams::default()
        };
        ports.stores.expect_find().returning(|_| ready(Ok(None)));
        let error = service(ports)
            .list(&staff(Role::Staff), &params)
            .await
            .unwrap_err();
        let ReviewError::Invalid(errors) = error else {
            panic!("expected invalid")
        };
        let fields: Vec<_> = errors.fields().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["minRating", "customerId", "dateTo"]);
    }
}
