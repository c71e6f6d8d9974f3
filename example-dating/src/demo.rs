//! `example-dating demo-data --users N`: synthetic users — profiles, locations, photos,
//! labels, visits, conversations, and a VIP with a paid order in every twenty — for demos and
//! load tests. Rows go in by batches, one transaction each, behind a progress bar with rate and
//! ETA (indicatif).

use std::collections::{HashMap, HashSet};

use indicatif::{ProgressBar, ProgressStyle};

use sea_orm::{
    ActiveValue::NotSet, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait,
    QueryFilter, Set,
};

use crate::clock;
use crate::db::entity::chat::{contacts, message};
use crate::db::entity::commerce::{user_order, vip_info};
use crate::db::entity::users::{location, user_album, user_auth, user_info, user_label, visitor};
use crate::people::Authority;
use crate::store::Store;

const BATCH: usize = 500;
/// Demo users live around Shenzhen.
const CENTRE: (f64, f64) = (22.54, 114.06);

/// A small, fast generator (xorshift64*): demo data need variety, not secrecy.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A progress bar on stderr: `what`, done of `len`, rate and time left.
fn bar(len: usize, what: &'static str) -> ProgressBar {
    let bar = ProgressBar::new(len as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{msg:>9} [{bar:30}] {human_pos}/{human_len} {per_sec:>12} ETA {eta}",
        )
        .expect("a valid template")
        .progress_chars("#>-"),
    );
    bar.set_message(what);
    bar
}

const NAMES: [&str; 12] = [
    "Ming", "Hua", "Lei", "Fang", "Jing", "Yan", "Tao", "Li", "Na", "Qiang", "Xin", "Yu",
];

/// Inserts `count` users with everything around them; returns how many were created.
pub async fn fill(
    db: &DatabaseConnection,
    store: Option<&dyn Store>,
    count: usize,
) -> Result<usize, String> {
    let err = |e: sea_orm::DbErr| e.to_string();
    let mut seed = [0u8; 8];
    getrandom::fill(&mut seed).map_err(|e| e.to_string())?;
    let mut rng = Rng(u64::from_le_bytes(seed) | 1);
    let now = clock::now();
    // Phones this run has not used: +86 199 + a run tag + a sequence, in their stored form
    // (E.164, `people::phone`).
    let tag = rng.below(9_000) + 1_000;
    let mut ids: Vec<i64> = Vec::with_capacity(count);
    let users = bar(count, "users");

    for start in (0..count).step_by(BATCH) {
        let end = (start + BATCH).min(count);
        let phones: Vec<String> = (start..end)
            .map(|i| format!("+86199{tag:04}{i:06}"))
            .collect();
        let txn = crate::db::begin(db).await.map_err(err)?;
        let profiles = phones.iter().map(|phone| {
            let gender = 1 + rng.below(2) as i32;
            let year = 1970 + rng.below(35);
            let nickname = format!(
                "{}{}",
                NAMES[rng.below(NAMES.len() as u64) as usize],
                &phone[10..]
            );
            user_info::ActiveModel {
                user_id: NotSet,
                // A bulk insert runs no `before_save`: the search key is set here.
                search_key: Set(Some(user_info::search_key(&nickname))),
                nickname: Set(nickname),
                phone: Set(phone.clone()),
                email: Set(None),
                gender: Set(gender),
                birthday: Set(Some(format!(
                    "{year}-{:02}-{:02}",
                    1 + rng.below(12),
                    1 + rng.below(28)
                ))),
                avatar: Set(Some(format!("https://img.example.com/avatar/{phone}.jpg"))),
                height: Set(Some(150 + rng.below(45) as i32)),
                emotion: Set(Some(rng.below(4) as i32)),
                sexual: Set(Some(if gender == 1 { 2 } else { 1 })),
                education: Set(Some(rng.below(6) as i32)),
                salary: Set(Some(1 + rng.below(6) as i32)),
                authority: Set(if rng.below(20) == 0 {
                    Authority::Contacts
                } else {
                    Authority::Everyone
                }),
                banned: Set(false),
                ban_reason: Set(None),
                created_at: Set(now - rng.below(365 * 86_400) as i64),
                updated_at: Set(now),
                deleted_at: Set(None),
            }
        });
        user_info::Entity::insert_many(profiles)
            .exec_without_returning(&txn)
            .await
            .map_err(err)?;
        let created = user_info::Entity::find()
            .filter(user_info::Column::Phone.is_in(phones.iter().cloned()))
            .all(&txn)
            .await
            .map_err(err)?;
        let batch_ids: Vec<i64> = created.iter().map(|u| u.user_id).collect();
        let identities = created.iter().map(|u| user_auth::ActiveModel {
            id: NotSet,
            user_id: Set(u.user_id),
            login_type: Set("phone".into()),
            identifier: Set(u.phone.clone()),
            created_at: Set(u.created_at),
        });
        user_auth::Entity::insert_many(identities)
            .exec_without_returning(&txn)
            .await
            .map_err(err)?;
        let mut spots = Vec::with_capacity(batch_ids.len());
        for &id in &batch_ids {
            // Within ~50 km of the centre.
            let (lat, lng) = (
                CENTRE.0 + (rng.unit() - 0.5) * 0.9,
                CENTRE.1 + (rng.unit() - 0.5) * 0.9,
            );
            spots.push(location::ActiveModel {
                user_id: Set(id),
                lat: Set(lat),
                lng: Set(lng),
                updated_at: Set(now),
            });
        }
        location::Entity::insert_many(spots)
            .exec_without_returning(&txn)
            .await
            .map_err(err)?;
        let mut photos = Vec::new();
        let mut labels = Vec::new();
        for &id in &batch_ids {
            for p in 0..rng.below(4) {
                photos.push(user_album::ActiveModel {
                    id: NotSet,
                    user_id: Set(id),
                    photo: Set(format!("https://img.example.com/{id}/{p}.jpg")),
                    created_at: Set(now),
                });
            }
            let wearing: HashSet<i64> = (0..rng.below(4))
                .map(|_| 1 + rng.below(12) as i64)
                .collect();
            labels.extend(wearing.into_iter().map(|label_id| user_label::ActiveModel {
                user_id: Set(id),
                label_id: Set(label_id),
            }));
        }
        if !photos.is_empty() {
            user_album::Entity::insert_many(photos)
                .exec_without_returning(&txn)
                .await
                .map_err(err)?;
        }
        if !labels.is_empty() {
            user_label::Entity::insert_many(labels)
                .exec_without_returning(&txn)
                .await
                .map_err(err)?;
        }
        txn.commit().await.map_err(err)?;
        users.inc(batch_ids.len() as u64);
        ids.extend(batch_ids);
    }
    users.finish();

    // Visits: each user looked at three others over the last week (one footprint per day).
    let mut footprints: HashSet<(i64, i64, i64)> = HashSet::new();
    let mut visits = Vec::new();
    for &viewer in &ids {
        for _ in 0..3 {
            let viewed = ids[rng.below(ids.len() as u64) as usize];
            let time = now - rng.below(7 * 86_400) as i64;
            if viewed != viewer && footprints.insert((viewer, viewed, clock::day(time))) {
                visits.push(visitor::ActiveModel {
                    id: NotSet,
                    viewer_id: Set(viewer),
                    viewed_id: Set(viewed),
                    day: Set(clock::day(time)),
                    visit_time: Set(time),
                    unread: Set(rng.below(2) == 0),
                });
            }
        }
    }
    insert_batches(db, visits, "visits", visitor::Entity::insert_many).await?;

    // Conversations: one user in five wrote three messages to someone.
    let mut messages = Vec::new();
    let mut threads: HashMap<(i64, i64), (String, i64, i32)> = HashMap::new();
    for &from in ids.iter().step_by(5) {
        let to = ids[rng.below(ids.len() as u64) as usize];
        if to == from {
            continue;
        }
        for k in 0..3 {
            let time = now - 3_600 + k * 60;
            let text = format!("hello #{k} from {from}");
            messages.push(message::ActiveModel {
                id: NotSet,
                from_uid: Set(from),
                to_uid: Set(to),
                msg_type: Set("text".into()),
                content: Set(Some(text.clone())),
                audio: Set(None),
                duration: Set(None),
                image: Set(None),
                send_time: Set(time),
                read: Set(false),
            });
            threads.insert((from, to), (text.clone(), time, 0));
            let entry = threads.entry((to, from)).or_insert((String::new(), 0, 0));
            *entry = (text, time, entry.2 + 1);
        }
    }
    insert_batches(db, messages, "messages", message::Entity::insert_many).await?;
    let rows: Vec<contacts::ActiveModel> = threads
        .into_iter()
        .map(
            |((user, peer), (last, time, unread))| contacts::ActiveModel {
                id: NotSet,
                user_id: Set(user),
                peer_id: Set(peer),
                creator_id: Set(user.min(peer)),
                last_msg: Set(last),
                unread: Set(unread),
                update_time: Set(time),
            },
        )
        .collect();
    insert_batches(db, rows, "contacts", contacts::Entity::insert_many).await?;

    // One user in twenty bought a month of VIP: a paid order and a running deadline.
    let buyers: Vec<i64> = ids.iter().copied().step_by(20).collect();
    let orders = buyers.iter().map(|&user| user_order::ActiveModel {
        id: NotSet,
        trade_no: Set(format!("D{tag}{user}")),
        user_id: Set(user),
        product_id: Set(1),
        product_name: Set("month".into()),
        vip_days: Set(30),
        fee_cents: Set(3000),
        pay: Set(1),
        order_time: Set(now - 86_400),
        pay_time: Set(Some(now - 86_400)),
    });
    insert_batches(
        db,
        orders.collect(),
        "orders",
        user_order::Entity::insert_many,
    )
    .await?;
    let vips = buyers.iter().map(|&user| vip_info::ActiveModel {
        user_id: Set(user),
        deadline: Set(now + 29 * 86_400),
    });
    insert_batches(db, vips.collect(), "VIPs", vip_info::Entity::insert_many).await?;

    analyze(db).await?;

    if let Some(store) = store {
        // The visits and memberships went straight to the tables: rank them again.
        crate::users::hot::rebuild(db, store)
            .await
            .map_err(|e| format!("ranking the hot list: {e:?}"))?;
        // The people went straight to the tables: their count is made now, not by the first
        // request that finds it missing (none would: totals are counted in the background).
        crate::people::visibility::recount_public(db, store)
            .await
            .map_err(|e| format!("counting the public people: {e:?}"))?;
        let everyone = [crate::people::visibility::EVERYONE_COUNT];
        crate::paging::forget_totals(store, &everyone).await;
        crate::commerce::orders::forget_totals(store).await;
    }
    Ok(ids.len())
}

/// The tables a fill writes.
const FILLED: [&str; 10] = [
    "user_info",
    "user_auth",
    "user_label",
    "user_album",
    "location",
    "visitor",
    "contacts",
    "message",
    "vip_info",
    "user_order",
];

/// Refreshes the planner's statistics after a bulk load. Without it the database plans from
/// what the tables held before (PostgreSQL's autoanalyze comes later, if at all): grown from
/// 10,000 to a million users in place, the VIP visitors list was planned as a walk of every
/// footprint by time (1.4 s a request, 3 a second) instead of the caller's own by index
/// (840 a second once analyzed).
async fn analyze(db: &DatabaseConnection) -> Result<(), String> {
    let sql = match db.get_database_backend() {
        DbBackend::MySql => format!("ANALYZE TABLE {}", FILLED.join(", ")),
        DbBackend::Postgres => format!("ANALYZE {}", FILLED.join(", ")),
        _ => "ANALYZE".to_owned(),
    };
    db.execute_unprepared(&sql)
        .await
        .map(|_| ())
        .map_err(|e| format!("analyzing the filled tables: {e}"))
}

async fn insert_batches<A, F>(
    db: &DatabaseConnection,
    rows: Vec<A>,
    what: &'static str,
    insert: F,
) -> Result<(), String>
where
    A: sea_orm::ActiveModelTrait + Send,
    F: Fn(Vec<A>) -> sea_orm::InsertMany<A>,
{
    let done = bar(rows.len(), what);
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let batch: Vec<A> = rows.by_ref().take(BATCH).collect();
        let n = batch.len() as u64;
        let txn = crate::db::begin(db).await.map_err(|e| e.to_string())?;
        insert(batch)
            .exec_without_returning(&txn)
            .await
            .map_err(|e| e.to_string())?;
        txn.commit().await.map_err(|e| e.to_string())?;
        done.inc(n);
    }
    done.finish();
    Ok(())
}
