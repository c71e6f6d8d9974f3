//! Reading a step function's signature, and refusing the ones kotori cannot use.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{
    Attribute, Error, FnArg, GenericArgument, Ident, ItemFn, Lit, Meta, Pat, PathArguments,
    ReturnType, Type,
};

/// One argument of the step function.
pub(crate) enum Arg {
    /// `&mut Ctx<S>`: passed through, borrowed for the whole call.
    Ctx,
    /// An extractor, made from the context before the call.
    Extract(Box<Type>),
}

/// A step function, checked.
pub(crate) struct Signature {
    pub(crate) args: Vec<Arg>,
    /// `S` of `&mut Ctx<S>`, when the function takes the context.
    pub(crate) state: Option<Type>,
    pub(crate) is_async: bool,
    /// The declared return type (`None`: `()`).
    pub(crate) output: Option<Type>,
    /// The first line of the doc comment.
    pub(crate) doc: Option<String>,
}

/// The attribute's own arguments: `name = "..."`, or nothing.
pub(crate) fn parse_name(attr: proc_macro2::TokenStream) -> syn::Result<Option<String>> {
    if attr.is_empty() {
        return Ok(None);
    }
    let meta: Meta = syn::parse2(attr.clone())
        .map_err(|_| Error::new(attr.span(), "expected `name = \"...\"` or nothing"))?;
    match meta {
        Meta::NameValue(nv) if nv.path.is_ident("name") => match &nv.value {
            syn::Expr::Lit(syn::ExprLit {
                lit: Lit::Str(s), ..
            }) => Ok(Some(s.value())),
            other => Err(Error::new(
                other.span(),
                "the name is a string: `name = \"...\"`",
            )),
        },
        other => Err(Error::new(
            other.span(),
            "unknown argument: the only one is `name = \"...\"`",
        )),
    }
}

pub(crate) fn parse(item: &ItemFn, needs_output: bool) -> syn::Result<Signature> {
    let sig = &item.sig;
    if let Some(unsafety) = &sig.unsafety {
        return Err(Error::new(unsafety.span(), "a step cannot be `unsafe`"));
    }
    if let Some(abi) = &sig.abi {
        return Err(Error::new(abi.span(), "a step cannot have an `extern` ABI"));
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        return Err(generic_error(sig.generics.span()));
    }
    if let Some(variadic) = &sig.variadic {
        return Err(Error::new(variadic.span(), "a step cannot be variadic"));
    }

    let mut args = Vec::new();
    let mut state = None;
    for input in &sig.inputs {
        let typed = match input {
            FnArg::Receiver(receiver) => {
                return Err(Error::new(
                    receiver.span(),
                    "a step is a free function: `self` cannot be taken from a request",
                ));
            }
            FnArg::Typed(typed) => typed,
        };
        if let Pat::Ident(pat) = &*typed.pat {
            if pat.by_ref.is_some() {
                return Err(Error::new(pat.span(), "bind arguments by value, not `ref`"));
            }
        }
        match classify(&typed.ty)? {
            Some(ctx_state) => {
                if state.is_some() {
                    return Err(Error::new(
                        typed.ty.span(),
                        "the context can be taken only once",
                    ));
                }
                state = Some(ctx_state);
                args.push(Arg::Ctx);
            }
            None => args.push(Arg::Extract(typed.ty.clone())),
        }
    }

    let output = match &sig.output {
        ReturnType::Default => None,
        ReturnType::Type(_, ty) => {
            if matches!(**ty, Type::ImplTrait(_)) {
                return Err(Error::new(
                    ty.span(),
                    "name the return type: kotori checks what a step returns (`impl Trait` hides it)",
                ));
            }
            Some((**ty).clone())
        }
    };
    if needs_output && output.is_none() {
        return Err(Error::new(
            sig.ident.span(),
            "a loader returns its resource: add `-> Result<T, Rejection>` or `-> Option<T>`",
        ));
    }

    Ok(Signature {
        args,
        state,
        is_async: sig.asyncness.is_some(),
        output,
        doc: first_doc_line(&item.attrs),
    })
}

fn generic_error(span: Span) -> Error {
    Error::new(
        span,
        "an attribute step cannot be generic; a plain generic function works as a step \
         without the attribute",
    )
}

/// `Some(S)` for `&mut Ctx<S>`; `None` for an extractor; an error for other references and for
/// the context taken in a way kotori cannot give it.
fn classify(ty: &Type) -> syn::Result<Option<Type>> {
    match ty {
        Type::Reference(reference) => {
            if let Some(state) = ctx_state(&reference.elem)? {
                if reference.mutability.is_none() {
                    return Err(Error::new(
                        ty.span(),
                        "take the context as `&mut Ctx<S>`: kotori lends it mutably",
                    ));
                }
                return Ok(Some(state));
            }
            Err(Error::new(
                ty.span(),
                "a step's arguments are owned extractors or `&mut Ctx<S>`; take an owned type \
                 (`String`, not `&str`), or read it from the context",
            ))
        }
        Type::ImplTrait(_) => Err(generic_error(ty.span())),
        other => {
            if ctx_state(other)?.is_some() {
                return Err(Error::new(
                    ty.span(),
                    "take the context by reference: `&mut Ctx<S>`",
                ));
            }
            Ok(None)
        }
    }
}

/// `Some(S)` when `ty` is `Ctx<S>` (by its last path segment).
fn ctx_state(ty: &Type) -> syn::Result<Option<Type>> {
    let Type::Path(path) = ty else {
        return Ok(None);
    };
    let Some(last) = path.path.segments.last() else {
        return Ok(None);
    };
    if last.ident != "Ctx" {
        return Ok(None);
    }
    match &last.arguments {
        PathArguments::AngleBracketed(args) if args.args.len() == 1 => match &args.args[0] {
            GenericArgument::Type(state) => Ok(Some(state.clone())),
            other => Err(Error::new(
                other.span(),
                "`Ctx<S>` takes the app's state type",
            )),
        },
        _ => Err(Error::new(
            last.span(),
            "name the app's state type: `&mut Ctx<S>` (`Ctx<()>` for none)",
        )),
    }
}

/// The first sentence of the doc comment's first paragraph: one line for the printed tree.
fn first_doc_line(attrs: &[Attribute]) -> Option<String> {
    let lines: Vec<String> = attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            Meta::NameValue(nv) => match &nv.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: Lit::Str(s), ..
                }) => Some(s.value().trim().to_owned()),
                _ => None,
            },
            _ => None,
        })
        .collect();
    let paragraph: Vec<&str> = lines
        .iter()
        .map(String::as_str)
        .skip_while(|l| l.is_empty())
        .take_while(|l| !l.is_empty())
        .collect();
    let text = paragraph.join(" ");
    let sentence = match text.find(". ") {
        Some(end) => &text[..=end],
        None => &text,
    };
    (!sentence.is_empty()).then(|| sentence.to_owned())
}

/// The generated struct's name: the function's.
pub(crate) fn name(item: &ItemFn) -> &Ident {
    &item.sig.ident
}
