//! The loyalty ledger: adjustments, refusals, claims, concurrency and pages.

use std::collections::HashSet;

use crate::backend::Backend;
use customers_domain::loyalty::{LoyaltyError, LoyaltyRepository};
use customers_domain::page::PageRequest;

use crate::support::{activity, audit, customer_id, manual, new_customer, new_store, whole_ledger};

pub async fn adjustments_report_the_balance_before_and_after<B: Backend>(t: &B) {
    let db = t.repos();
    let store = new_store(db).await;
    let maria = new_customer(db, &store, 1).await;
    let credit = manual(&store, &maria, 500, 1);
    let stored = db
        .adjust(&credit, None, &audit(&credit.store_id))
        .await
        .unwrap();
    assert_eq!((stored.balance_before(), stored.balance_after), (0, 500));
    assert_eq!(
        stored,
        customers_domain::loyalty::LedgerEntry {
            balance_after: 500,
            ..credit
        }
    );

    let debit = db
        .adjust(&manual(&store, &maria, -200, 2), None, &audit(&store))
        .await
        .unwrap();
    assert_eq!((debit.balance_before(), debit.balance_after), (500, 300));
    assert_eq!(activity(db, &store, &maria).await.loyalty_points, 300);
    let (balance, entries) = whole_ledger(db, &store, &maria).await;
    assert_eq!(balance, 300);
    assert_eq!(entries, vec![debit, stored], "newest first, as stored");
}

pub async fn an_adjustment_below_zero_is_refused_and_writes_nothing<B: Backend>(t: &B) {
    let db = t.repos();
    let store = new_store(db).await;
    let maria = new_customer(db, &store, 1).await;
    assert_eq!(
        db.adjust(&manual(&store, &maria, -1, 1), None, &audit(&store))
            .await,
        Err(LoyaltyError::InsufficientPoints { balance: 0 })
    );
    db.adjust(&manual(&store, &maria, 300, 2), None, &audit(&store))
        .await
        .unwrap();
    let refused = manual(&store, &maria, -301, 3);
    assert_eq!(
        db.adjust(
            &refused,
            Some("claim-refused".into()),
            &audit(&refused.store_id)
        )
        .await,
        Err(LoyaltyError::InsufficientPoints { balance: 300 })
    );
    let (balance, entries) = whole_ledger(db, &store, &maria).await;
    assert_eq!((balance, entries.len()), (300, 1));
    // The refusal kept neither the entry id nor the claim.
    let retried = db
        .adjust(
            &manual(&store, &maria, -300, 4),
            Some("claim-refused".into()),
            &audit(&store),
        )
        .await;
    assert_eq!(retried.map(|e| e.balance_after), Ok(0));
    let again = db.adjust(&refused, None, &audit(&refused.store_id)).await;
    assert_eq!(again, Err(LoyaltyError::InsufficientPoints { balance: 0 }));
}

pub async fn a_used_claim_returns_its_entry<B: Backend>(t: &B) {
    let db = t.repos();
    let store = new_store(db).await;
    let maria = new_customer(db, &store, 1).await;
    let first = db
        .adjust(
            &manual(&store, &maria, 100, 1),
            Some("idem_a".into()),
            &audit(&store),
        )
        .await
        .unwrap();
    // The same request again (new entry id and time): the first entry, nothing written.
    let replay = db
        .adjust(
            &manual(&store, &maria, 100, 2),
            Some("idem_a".into()),
            &audit(&store),
        )
        .await;
    assert_eq!(replay, Ok(first.clone()));
    let (balance, entries) = whole_ledger(db, &store, &maria).await;
    assert_eq!((balance, entries), (100, vec![first]));
    // Concurrent requests with one claim: one entry.
    let racers: Vec<_> = (0..8)
        .map(|n| {
            let (db, entry) = (db.clone(), manual(&store, &maria, 10, 10 + n));
            tokio::spawn(async move {
                db.adjust(&entry, Some("idem_b".into()), &audit(&entry.store_id))
                    .await
            })
        })
        .collect();
    let mut ids = HashSet::new();
    for racer in racers {
        ids.insert(racer.await.unwrap().unwrap().id);
    }
    assert_eq!(ids.len(), 1, "every request got the same entry");
    assert_eq!(whole_ledger(db, &store, &maria).await.0, 110);
}

pub async fn unknown_customers_cannot_be_adjusted<B: Backend>(t: &B) {
    let db = t.repos();
    let (store, other) = (new_store(db).await, new_store(db).await);
    new_customer(db, &other, 1).await;
    for store in [&store, &other] {
        assert_eq!(
            db.adjust(&manual(store, &customer_id(2), 10, 1), None, &audit(store))
                .await,
            Err(LoyaltyError::NotFound)
        );
    }
    // The other store's customer cannot be reached from this store.
    assert_eq!(
        db.adjust(
            &manual(&store, &customer_id(1), 10, 1),
            None,
            &audit(&store)
        )
        .await,
        Err(LoyaltyError::NotFound)
    );
    assert_eq!(
        db.ledger(&store, &customer_id(1), PageRequest::first())
            .await,
        Ok(None)
    );
    assert_eq!(
        activity(db, &other, &customer_id(1)).await.loyalty_points,
        0
    );
}

/// 200 adjustments at once, credits and debits, some refused: no update is lost, the balance
/// is the sum of the entries, and the entries are numbered 1..=n.
pub async fn concurrent_adjustments_never_lose_an_update<B: Backend>(t: &B) {
    let db = t.repos();
    let store = new_store(db).await;
    let maria = new_customer(db, &store, 1).await;
    const START: i64 = 1_000;
    db.adjust(&manual(&store, &maria, START, 0), None, &audit(&store))
        .await
        .unwrap();
    // Credits of 37–49 and debits of 60–109: together more than the balance can give.
    let deltas: Vec<i64> = (0..200)
        .map(|n| {
            if n % 2 == 0 {
                37 + n % 13
            } else {
                -(60 + n % 50)
            }
        })
        .collect();
    assert!(START + deltas.iter().sum::<i64>() < 0);
    let tasks: Vec<_> = deltas
        .iter()
        .enumerate()
        .map(|(n, delta)| {
            let (db, entry) = (db.clone(), manual(&store, &maria, *delta, n as i64));
            tokio::spawn(async move {
                (
                    entry.delta,
                    db.adjust(&entry, None, &audit(&entry.store_id)).await,
                )
            })
        })
        .collect();
    let mut accepted = Vec::new();
    let mut refused = 0;
    for task in tasks {
        match task.await.expect("the task finished") {
            (delta, Ok(entry)) => {
                assert_eq!(entry.delta, delta);
                accepted.push(delta);
            }
            (delta, Err(LoyaltyError::InsufficientPoints { balance })) => {
                assert!(balance >= 0 && balance + delta < 0, "{balance} {delta}");
                refused += 1;
            }
            (_, Err(error)) => panic!("an adjustment failed: {error:?}"),
        }
    }
    assert!(refused > 0 && accepted.iter().any(|d| *d < 0));

    let expected = START + accepted.iter().sum::<i64>();
    let (balance, entries) = whole_ledger(db, &store, &maria).await;
    assert_eq!(balance, expected);
    assert_eq!(activity(db, &store, &maria).await.loyalty_points, expected);
    assert_eq!(entries.len(), 1 + accepted.len());
    assert_eq!(entries.iter().map(|e| e.delta).sum::<i64>(), balance);
    // Oldest first, each entry's balance follows from the one before and is never negative.
    let mut running = 0;
    for entry in entries.iter().rev() {
        running += entry.delta;
        assert_eq!(entry.balance_after, running);
        assert!(entry.balance_after >= 0);
    }
    let ids: HashSet<_> = entries.iter().map(|e| e.id.clone()).collect();
    assert_eq!(ids.len(), entries.len());
}

pub async fn ledger_pages_are_newest_first<B: Backend>(t: &B) {
    let db = t.repos();
    let store = new_store(db).await;
    let maria = new_customer(db, &store, 1).await;
    let mut written = Vec::new();
    for n in 1..=25 {
        // All at one instant: the order comes from the numbering, not the time.
        written.push(
            db.adjust(&manual(&store, &maria, n, 0), None, &audit(&store))
                .await
                .unwrap(),
        );
    }
    written.reverse();
    let mut seen = Vec::new();
    for page in 1..=3 {
        let request = PageRequest::new(Some(page), Some(10)).unwrap();
        let (balance, entries, total) = db.ledger(&store, &maria, request).await.unwrap().unwrap();
        assert_eq!((balance, total), (325, 25));
        seen.extend(entries);
    }
    assert_eq!(seen, written);
    let past_the_end = PageRequest::new(Some(4), Some(10)).unwrap();
    assert_eq!(
        db.ledger(&store, &maria, past_the_end).await,
        Ok(Some((325, vec![], 25)))
    );
}
