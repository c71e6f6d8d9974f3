#[kotori::hook]
fn check(cx: &mut kotori::Ctx) {
    let _ = cx;
}

fn main() {}
