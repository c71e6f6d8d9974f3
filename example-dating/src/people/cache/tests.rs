//! The cache's own rules: what a forget overtakes is not kept, what is derived goes with
//! its person, glances are reused until this instance moves what they saw, bounds hold.

use super::*;
use crate::people::Authority;

/// The kept sets `people_of` is asked for.
fn hidden(k: &mut Kept) -> &mut Map<i64, Held<Arc<People>>> {
    &mut k.hidden
}

fn contacts(k: &mut Kept) -> &mut Map<i64, Held<Arc<People>>> {
    &mut k.contacts
}

fn card(user_id: i64, nickname: &str) -> Card {
    Card {
        user_id,
        nickname: nickname.into(),
        gender: 0,
        birthday: None,
        avatar: None,
        height: None,
        emotion: None,
        sexual: None,
        education: None,
        salary: None,
        authority: Authority::Everyone,
        banned: false,
        deleted_at: None,
    }
}

#[test]
fn a_read_that_a_forget_overtook_is_not_kept() {
    let cache = PeopleCache::default();
    // A read under way when a change is forgotten: what it read may be older.
    let (_, missing, epoch) = cache.look(&[1, 2]);
    assert_eq!(missing, [1, 2]);
    cache.forget_card(1);
    let read = HashMap::from([(1, card(1, "old")), (2, card(2, "two"))]);
    assert_eq!(cache.keep_cards(epoch, read).len(), 2, "still answered");
    assert_eq!(cache.cards_kept(), 0, "but not kept");
    // A read nothing overtook is kept, and the next look finds it.
    let (_, _, epoch) = cache.look(&[1]);
    cache.keep_cards(epoch, HashMap::from([(1, card(1, "new"))]));
    let (found, missing, _) = cache.look(&[1, 2]);
    let first = found[0].as_ref().map(|c| c.nickname.as_str());
    assert_eq!(
        (first, found[1].is_none(), missing),
        (Some("new"), true, vec![2])
    );
    // A forget from the hub: this card goes, and only this one.
    cache.delivered(&Route::Changed(1));
    assert_eq!(cache.look(&[1]).1, [1]);
}

#[tokio::test]
async fn what_is_derived_from_a_person_is_kept_until_they_change() {
    let cache = PeopleCache::default();
    let derive = |n: u32| async move { Ok::<_, AppError>(n) };
    assert_eq!(*cache.derived(7, || derive(1)).await.unwrap(), 1);
    assert_eq!(*cache.derived(7, || derive(2)).await.unwrap(), 1, "kept");
    let other = cache.derived(7, || async { Ok::<_, AppError>("text") });
    assert_eq!(*other.await.unwrap(), "text", "each type apart");
    assert_eq!(
        *cache.derived(8, || derive(9)).await.unwrap(),
        9,
        "each person apart"
    );
    cache.forget_card(7);
    assert_eq!(
        *cache.derived(7, || derive(3)).await.unwrap(),
        3,
        "forgotten"
    );
    cache.forget_card(7);
    let overtaken = async {
        cache.forget_card(7);
        Ok::<_, AppError>(4u32)
    };
    assert_eq!(*cache.derived(7, || overtaken).await.unwrap(), 4);
    assert_eq!(
        *cache.derived(7, || derive(5)).await.unwrap(),
        5,
        "not kept"
    );
    assert_eq!(
        *cache.derived(8, || derive(10)).await.unwrap(),
        9,
        "still kept"
    );
}

#[tokio::test]
async fn a_glance_is_reused_until_this_instance_moves_what_it_saw() {
    let cache = PeopleCache::default();
    let read = |ids: Vec<i64>| async move { Ok::<_, AppError>(ids) };
    assert_eq!(
        *cache.ranking(0, 2, || read(vec![1, 2])).await.unwrap(),
        [1, 2]
    );
    let again = cache.ranking(0, 2, || read(vec![2, 1])).await.unwrap();
    assert_eq!(*again, [1, 2], "within a second");
    assert_eq!(
        *cache.ranking(2, 2, || read(vec![3])).await.unwrap(),
        [3],
        "each window"
    );
    cache.forget_glances();
    assert_eq!(
        *cache.ranking(0, 2, || read(vec![2, 1])).await.unwrap(),
        [2, 1]
    );
    cache.forget_glances();
    let overtaken = async {
        cache.forget_glances();
        Ok::<_, AppError>(vec![9])
    };
    assert_eq!(*cache.ranking(0, 2, || overtaken).await.unwrap(), [9]);
    assert_eq!(
        *cache.ranking(0, 2, || read(vec![4])).await.unwrap(),
        [4],
        "not kept"
    );
    let count = |n| async move { Ok::<_, AppError>(Some(n)) };
    assert_eq!(cache.public_count(|| count(5)).await.unwrap(), Some(5));
    assert_eq!(cache.public_count(|| count(6)).await.unwrap(), Some(5));
    cache.missed();
    assert_eq!(cache.public_count(|| count(7)).await.unwrap(), Some(7));
    cache.forget_glances();
    let overtaken = async {
        cache.forget_glances();
        Ok::<_, AppError>(Some(8))
    };
    assert_eq!(cache.public_count(|| overtaken).await.unwrap(), Some(8));
    assert_eq!(
        cache.public_count(|| count(9)).await.unwrap(),
        Some(9),
        "not kept"
    );
}

/// A set of people read while a forget overtook the read is answered, not kept.
#[tokio::test]
async fn a_set_of_people_a_forget_overtook_is_not_kept() {
    let cache = PeopleCache::default();
    let overtaken = async {
        cache.delivered(&Route::Blocked(1, 2, true));
        Ok::<_, AppError>(People::from_iter([3]))
    };
    assert!(
        cache
            .people_of(hidden, 1, || overtaken)
            .await
            .unwrap()
            .contains(&3)
    );
    let again = async { Ok::<_, AppError>(People::from_iter([2, 3])) };
    let read_again = cache.people_of(hidden, 1, || again).await.unwrap();
    assert!(
        read_again.contains(&2),
        "read again: the first was not kept"
    );
    let kept = async { Ok::<_, AppError>(People::default()) };
    assert!(
        cache
            .people_of(hidden, 1, || kept)
            .await
            .unwrap()
            .contains(&2),
        "kept"
    );
}

#[test]
fn routes_lost_forget_everything_and_a_full_cache_makes_room() {
    let cache = PeopleCache::default();
    let (_, _, epoch) = cache.look(&[]);
    let many = (0..CAPACITY as i64 + 10).map(|id| (id, card(id, "n")));
    cache.keep_cards(epoch, many.collect());
    assert!(cache.cards_kept() <= CAPACITY, "bounded");
    assert!(cache.cards_kept() > CAPACITY / 2);
    cache.missed();
    assert_eq!(cache.cards_kept(), 0);
}

/// The pairs known to have talked are bounded like everything else, and a full set makes room
/// a little at a time: most pairs stay known, the newest among them.
#[test]
fn a_full_set_of_pairs_that_talked_makes_room_without_forgetting_them_all() {
    let cache = PeopleCache::default();
    for a in 0..CAPACITY as i64 + 10 {
        cache.forget_contacts(a, -1);
    }
    let known = (0..CAPACITY as i64 + 10)
        .filter(|&a| cache.have_talked(a, -1))
        .count();
    assert!(known <= CAPACITY, "bounded: {known}");
    assert!(known > CAPACITY / 2, "most stay known: {known}");
    assert!(cache.have_talked(CAPACITY as i64 + 9, -1), "the newest");
}

#[tokio::test]
async fn contacts_are_kept_until_a_message_between_two_people() {
    let cache = PeopleCache::default();
    let read = |ids: &[i64]| {
        let ids: People = ids.iter().copied().collect();
        async move { Ok::<_, AppError>(ids) }
    };
    assert!(
        cache
            .people_of(contacts, 1, || read(&[2]))
            .await
            .unwrap()
            .contains(&2)
    );
    assert!(cache.have_talked(1, 2), "kept, with 2 in it");
    assert!(!cache.have_talked(1, 3) && !cache.have_talked(3, 1));
    let kept = cache.people_of(contacts, 1, || read(&[])).await.unwrap();
    assert!(kept.contains(&2), "kept: not read again");
    // 1 and 3 talk: both forget whom they talked with, and the pair is known from now on.
    cache.delivered(&Route::Contacted(3, 1));
    assert!(cache.have_talked(1, 3) && cache.have_talked(3, 1));
    let read_again = cache
        .people_of(contacts, 1, || read(&[2, 3]))
        .await
        .unwrap();
    assert!(read_again.contains(&3), "read again after the forget");
    // Blocks are kept apart: a forget of contacts leaves them.
    cache.people_of(hidden, 1, || read(&[9])).await.unwrap();
    cache.delivered(&Route::Contacted(1, 4));
    assert!(
        cache
            .people_of(hidden, 1, || read(&[]))
            .await
            .unwrap()
            .contains(&9)
    );
}

#[tokio::test]
async fn a_failed_read_is_answered_and_nothing_is_kept() {
    let cache = PeopleCache::default();
    let down = async { Err::<People, _>(crate::codes::unavailable("the database")) };
    assert!(cache.people_of(contacts, 1, || down).await.is_err());
    let derived_down = async { Err::<u32, _>(crate::codes::unavailable("the database")) };
    assert!(cache.derived(1, || derived_down).await.is_err());
    // Nothing was kept in their place: the next reads run, and their answers are kept.
    let read = async { Ok::<_, AppError>(People::from_iter([2])) };
    assert!(
        cache
            .people_of(contacts, 1, || read)
            .await
            .unwrap()
            .contains(&2)
    );
    assert!(cache.have_talked(1, 2));
    assert_eq!(
        *cache
            .derived(1, || async { Ok::<_, AppError>(7u32) })
            .await
            .unwrap(),
        7
    );
}
