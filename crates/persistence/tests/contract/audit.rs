//! The audit trail: entries written with their change, in its transaction, and the list.

use crate::backend::Backend;
use crate::backend::Repositories;
use customers_domain::access::CredentialRepository;
use customers_domain::audit::AuditRepository;
use customers_domain::audit::{Actor, AuditAction, AuditEntry, AuditFilter};
use customers_domain::customer::CustomerRepository;
use customers_domain::customer::{Block, BlockReason, Profile};
use customers_domain::ids::{AuditId, CredentialId, StoreId, UserId};
use customers_domain::loyalty::LoyaltyRepository;
use customers_domain::page::PageRequest;

use crate::support::{
    at, audit, blank_customer, customer_id, find, full_customer, manual, new_customer, new_id,
    new_store, new_store_with_token,
};

fn entry(store: &StoreId, action: AuditAction, actor: Actor, minutes: i64) -> AuditEntry {
    AuditEntry::new(
        AuditId::from_stored(new_id("aud")),
        store.clone(),
        at(minutes),
        actor,
        action,
    )
}

async fn all(
    db: &impl Repositories,
    store: &StoreId,
    filter: &AuditFilter,
) -> (Vec<AuditEntry>, u64) {
    let page = PageRequest::new(Some(1), Some(100)).unwrap();
    AuditRepository::list(db, store, filter, page)
        .await
        .expect("the trail is read")
}

async fn everything(db: &impl Repositories, store: &StoreId) -> Vec<AuditEntry> {
    all(db, store, &AuditFilter::default()).await.0
}

/// Only the audit entries of customer changes (the store's creation files one of its own).
async fn customer_entries(db: &impl Repositories, store: &StoreId) -> Vec<AuditAction> {
    everything(db, store)
        .await
        .into_iter()
        .filter(|e| e.customer_id.is_some())
        .map(|e| e.action)
        .collect()
}

pub async fn entries_round_trip_every_field<B: Backend>(t: &B) {
    let db = t.repos();
    let store = new_store(db).await;
    let written = entry(
        &store,
        AuditAction::CustomerUpdated,
        Actor::User(UserId::from_stored(new_id("usr"))),
        5,
    )
    .about(&customer_id(1))
    .subject("loy_000000000001")
    .with_fields(["email", "defaultCity"]);
    AuditRepository::record(db, &written).await.unwrap();
    let system = entry(&store, AuditAction::UserCreated, Actor::System, 6);
    AuditRepository::record(db, &system).await.unwrap();
    let key = entry(
        &store,
        AuditAction::CustomerExported,
        Actor::ApiKey(CredentialId::from_stored(new_id("key"))),
        7,
    );
    AuditRepository::record(db, &key).await.unwrap();
    let trail = everything(db, &store).await;
    assert_eq!(
        trail[..3],
        [key, system, written],
        "newest first, every field kept"
    );
}

pub async fn audited_changes_store_their_entry_with_the_change<B: Backend>(t: &B) {
    let db = t.repos();
    let store = new_store(db).await;
    let customer = full_customer(&store, customer_id(1));
    let created = audit(&store).about(&customer.id);
    CustomerRepository::insert(db, &customer, &created)
        .await
        .unwrap();
    let changed = audit(&store).about(&customer.id).with_fields(["firstName"]);
    assert_eq!(
        db.update_profile(
            &store,
            &customer.id,
            &Profile::default(),
            1,
            at(1),
            &changed
        )
        .await,
        Ok(true)
    );
    let block = Some(Block {
        reason: None,
        at: at(2),
    });
    let blocked = audit(&store).about(&customer.id);
    assert_eq!(
        db.set_block(&store, &customer.id, block, at(2), &blocked)
            .await,
        Ok(true)
    );
    let erased = audit(&store).about(&customer.id);
    assert_eq!(
        CustomerRepository::delete(db, &store, &customer.id, &erased).await,
        Ok(true)
    );
    let ids: Vec<_> = everything(db, &store)
        .await
        .into_iter()
        .filter(|e| e.customer_id.is_some())
        .map(|e| e.id)
        .collect();
    let mut expected = vec![created.id, changed.id, blocked.id, erased.id];
    expected.sort();
    let mut ids = ids;
    ids.sort();
    assert_eq!(ids, expected, "the erasure leaves the trail in place");
}

pub async fn changes_that_do_not_happen_leave_no_entry<B: Backend>(t: &B) {
    let db = t.repos();
    let (store, token) = new_store_with_token(db).await;
    let other = new_store(db).await;
    let maria = new_customer(db, &store, 1).await;
    let before = everything(db, &store).await.len();
    let stale = db
        .update_profile(
            &store,
            &maria,
            &Profile::default(),
            7,
            at(1),
            &audit(&store),
        )
        .await;
    assert_eq!(stale, Ok(false));
    let unknown = customer_id(2);
    let block = Block {
        reason: None,
        at: at(2),
    };
    assert_eq!(
        db.set_block(&store, &unknown, Some(block), at(2), &audit(&store))
            .await,
        Ok(false)
    );
    assert_eq!(
        CustomerRepository::delete(db, &other, &maria, &audit(&other)).await,
        Ok(false),
        "another store's customer"
    );
    assert_eq!(
        db.revoke_api_key(&store, &token, at(3), &audit(&store))
            .await,
        Ok(false),
        "a staff token is not an API key"
    );
    let refused = manual(&store, &maria, -5, 4);
    assert!(db.adjust(&refused, None, &audit(&store)).await.is_err());
    assert_eq!(
        db.set_block(&store, &maria, None, at(5), &audit(&store))
            .await,
        Ok(true),
        "unblocking a customer who is not blocked finds them"
    );
    assert_eq!(
        everything(db, &store).await.len(),
        before,
        "and records nothing"
    );

    // The same block twice: the second writes nothing. A new reason is a change.
    let block = |reason: Option<&str>, minutes| Block {
        reason: reason.map(|r| BlockReason::from_stored(r.into())),
        at: at(minutes),
    };
    for (reason, minutes, recorded) in [
        (Some("no-show"), 6, true),
        (Some("no-show"), 7, false),
        (None, 8, true),
        (None, 9, false),
        (Some("rude"), 10, true),
    ] {
        let before = everything(db, &store).await.len();
        let entry = audit(&store).about(&maria);
        assert_eq!(
            db.set_block(
                &store,
                &maria,
                Some(block(reason, minutes)),
                at(minutes),
                &entry
            )
            .await,
            Ok(true)
        );
        let after = everything(db, &store).await.len();
        assert_eq!(
            after - before,
            usize::from(recorded),
            "block {reason:?} at {minutes}"
        );
        let updated_at = find(db, &store, &maria).await.unwrap().updated_at;
        let last_change = if recorded { minutes } else { minutes - 1 };
        assert_eq!(updated_at, at(last_change), "block {reason:?} at {minutes}");
    }
    let before = everything(db, &store).await.len();
    assert_eq!(
        db.set_block(&store, &maria, None, at(11), &audit(&store).about(&maria))
            .await,
        Ok(true)
    );
    assert_eq!(
        everything(db, &store).await.len(),
        before + 1,
        "a real unblock is recorded"
    );
    assert_eq!(customer_entries(db, &other).await, []);
}

/// The entry is part of the change's transaction: when it cannot be stored, the change is
/// not made either.
pub async fn a_change_whose_entry_fails_is_rolled_back<B: Backend>(t: &B) {
    let db = t.repos();
    let store = new_store(db).await;
    let taken = audit(&store);
    AuditRepository::record(db, &taken).await.unwrap();
    let customer = blank_customer(&store, customer_id(1));
    assert!(
        CustomerRepository::insert(db, &customer, &taken)
            .await
            .is_err()
    );
    assert_eq!(find(db, &store, &customer.id).await, None);

    let maria = new_customer(db, &store, 2).await;
    let credit = manual(&store, &maria, 50, 1);
    assert!(db.adjust(&credit, None, &taken).await.is_err());
    let (balance, _, _) = db
        .ledger(&store, &maria, PageRequest::first())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(balance, 0, "the points did not move");
    assert!(
        CustomerRepository::delete(db, &store, &maria, &taken)
            .await
            .is_err()
    );
    assert!(find(db, &store, &maria).await.is_some(), "not erased");
}

pub async fn the_list_filters_and_pages_newest_first<B: Backend>(t: &B) {
    let db = t.repos();
    let store = new_store(db).await;
    let other = new_store(db).await;
    let users: Vec<Actor> = (0..3)
        .map(|_| Actor::User(UserId::from_stored(new_id("usr"))))
        .collect();
    let actions = [
        AuditAction::CustomerCreated,
        AuditAction::CustomerUpdated,
        AuditAction::LoyaltyAdjusted,
        AuditAction::Login,
    ];
    let mut written = Vec::new();
    for n in 0..60_i64 {
        let mut e = entry(
            &store,
            actions[(n % 4) as usize],
            users[(n % 3) as usize].clone(),
            // Two entries share each minute: ties go by the order of writing.
            n / 2 * 60,
        );
        if n % 5 != 0 {
            e = e.about(&customer_id((n % 4) as u32 + 1));
        }
        AuditRepository::record(db, &e).await.unwrap();
        written.push(e);
    }
    AuditRepository::record(db, &entry(&other, AuditAction::Login, users[0].clone(), 0))
        .await
        .unwrap();
    // Newest first; entries of the same instant, the last written first.
    let mut newest_first = written.clone();
    newest_first.reverse();
    newest_first.sort_by_key(|e| std::cmp::Reverse(e.at));

    let filters = [
        AuditFilter::default(),
        AuditFilter {
            customer_id: Some(customer_id(2)),
            ..AuditFilter::default()
        },
        AuditFilter {
            actor_id: users[1].id().map(str::to_owned),
            ..AuditFilter::default()
        },
        AuditFilter {
            action: Some(AuditAction::LoyaltyAdjusted),
            ..AuditFilter::default()
        },
        AuditFilter {
            from: Some(at(600)),
            before: Some(at(1200)),
            ..AuditFilter::default()
        },
        AuditFilter {
            customer_id: Some(customer_id(3)),
            action: Some(AuditAction::LoyaltyAdjusted),
            actor_id: users[0].id().map(str::to_owned),
            from: Some(at(60)),
            ..AuditFilter::default()
        },
    ];
    for filter in filters {
        let expected: Vec<_> = newest_first
            .iter()
            .filter(|e| {
                filter
                    .customer_id
                    .as_ref()
                    .is_none_or(|c| e.customer_id.as_ref() == Some(c))
                    && filter
                        .actor_id
                        .as_deref()
                        .is_none_or(|a| e.actor.id() == Some(a))
                    && filter.action.is_none_or(|a| e.action == a)
                    && filter.from.is_none_or(|f| e.at >= f)
                    && filter.before.is_none_or(|b| e.at < b)
            })
            .map(|e| e.id.clone())
            .collect();
        // Pages of 7 put together give the whole list, in order, each row once.
        let mut paged = Vec::new();
        for page in 1.. {
            let request = PageRequest::new(Some(page), Some(7)).unwrap();
            let (rows, total) = AuditRepository::list(db, &store, &filter, request)
                .await
                .unwrap();
            let wanted = if filter == AuditFilter::default() {
                // The store's creation filed an entry too.
                expected.len() + 1
            } else {
                expected.len()
            };
            assert_eq!(total, wanted as u64, "{filter:?}");
            if rows.is_empty() {
                break;
            }
            paged.extend(rows.into_iter().map(|e| e.id));
        }
        paged.retain(|id| written.iter().any(|e| &e.id == id));
        assert_eq!(paged, expected, "{filter:?}");
    }
}

pub async fn credential_events_are_stored_with_the_credential<B: Backend>(t: &B) {
    let db = t.repos();
    let (store, token) = new_store_with_token(db).await;
    let logout = entry(&store, AuditAction::Logout, Actor::System, 1).subject(token.as_str());
    assert_eq!(db.revoke(&store, &token, at(1), &logout).await, Ok(true));
    let again = entry(&store, AuditAction::Logout, Actor::System, 2);
    assert_eq!(db.revoke(&store, &token, at(2), &again).await, Ok(false));
    let trail = everything(db, &store).await;
    assert!(trail.iter().any(|e| e.id == logout.id));
    assert!(
        trail.iter().all(|e| e.id != again.id),
        "a repeat is not an event"
    );
}
