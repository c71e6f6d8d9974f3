#[kotori::loader]
async fn load_live(kotori::Path(id): kotori::Path<u64>) {
    let _ = id;
}

fn main() {}
