// Without the attribute, an async fn cannot borrow the context across an await: kotori says
// to use #[kotori::guard].
async fn check(cx: &mut kotori::Ctx<()>) -> Result<(), kotori::Rejection> {
    let _ = cx;
    Ok(())
}

fn main() {
    let app = kotori::Kotori::new(());
    app.guard(check);
}
