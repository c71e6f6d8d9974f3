#[kotori::handler]
fn show() -> impl kotori::IntoReply {
    "hidden"
}

fn main() {}
