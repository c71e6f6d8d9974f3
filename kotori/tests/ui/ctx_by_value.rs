#[kotori::handler]
async fn show(cx: kotori::Ctx<()>) -> String {
    cx.path().to_owned()
}

fn main() {}
