#[kotori::guard]
fn check(cx: &mut kotori::Ctx) {
    let _ = cx;
}

fn main() {}
