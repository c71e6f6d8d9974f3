#[kotori::handler]
async fn show(name: &str) -> String {
    name.to_owned()
}

fn main() {}
