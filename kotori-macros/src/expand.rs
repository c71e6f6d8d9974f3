//! Generating the step: a unit struct named after the function, the function kept as its
//! `run`, and the kotori trait implemented by extracting, calling and wrapping.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::ItemFn;
use syn::spanned::Spanned;

use crate::signature::{self, Arg, Signature};

/// Which kotori trait the function becomes.
#[derive(Clone, Copy)]
pub(crate) enum Kind {
    Guard,
    Loader,
    Handler,
}

pub(crate) fn expand(kind: Kind, attr: TokenStream, item: TokenStream) -> TokenStream {
    match try_expand(kind, attr, item) {
        Ok(tokens) => tokens,
        Err(error) => error.to_compile_error(),
    }
}

fn try_expand(kind: Kind, attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let custom_name = signature::parse_name(attr)?;
    let item: ItemFn = syn::parse2(item).map_err(|e| {
        syn::Error::new(
            e.span(),
            "kotori's step attributes go on a function (`fn` or `async fn`)",
        )
    })?;
    let sig = signature::parse(&item, matches!(kind, Kind::Loader))?;
    let name = signature::name(&item);
    let vis = &item.vis;

    let (docs, others): (Vec<_>, Vec<_>) =
        item.attrs.iter().partition(|a| a.path().is_ident("doc"));
    let cfgs: Vec<_> = others.iter().filter(|a| a.path().is_ident("cfg")).collect();
    let mut run = item.clone();
    run.sig.ident = format_ident!("run");
    run.attrs = others.iter().map(|a| (*a).clone()).collect();

    let state = match &sig.state {
        Some(state) => quote!(#state),
        None => quote!(__S),
    };
    let extractors: Vec<_> = sig
        .args
        .iter()
        .filter_map(|a| match a {
            Arg::Extract(ty) => Some(ty),
            Arg::Ctx => None,
        })
        .collect();
    let generics = if sig.state.is_some() {
        quote!()
    } else {
        quote!(<__S: ::core::marker::Send + ::core::marker::Sync + 'static>)
    };
    let bounds = extractors
        .iter()
        .map(|ty| quote!(#ty: ::kotori::__private::FromCtx<#state>));

    let body = call_body(kind, &sig, &state);
    // The mode tells dispatch whether the step can finish without awaiting.
    let mode = if sig.is_async {
        quote!(Async)
    } else {
        quote!(Sync)
    };
    let (trait_name, flow_output) = match kind {
        Kind::Guard => (quote!(Guard), quote!(::kotori::__private::Outcome)),
        Kind::Loader => (quote!(Loader), quote!(::kotori::__private::Outcome)),
        Kind::Handler => (quote!(Handler), quote!(::kotori::__private::Reply)),
    };
    let produces = match (kind, &sig.output) {
        (Kind::Loader, Some(output)) => quote! {
            fn produces(&self) -> ::kotori::__private::ResourceType {
                ::kotori::__private::produces::<#output>()
            }
        },
        _ => quote!(),
    };
    let step_name = match custom_name {
        Some(custom) => quote!(#custom),
        None => quote!(::core::concat!(
            ::core::module_path!(),
            "::",
            ::core::stringify!(#name)
        )),
    };
    let doc = match &sig.doc {
        Some(line) => quote!(::core::option::Option::Some(#line)),
        None => quote!(::core::option::Option::None),
    };

    Ok(quote! {
        #(#cfgs)*
        #(#docs)*
        #[allow(non_camel_case_types)]
        #[derive(Clone, Copy, Debug, Default)]
        #vis struct #name;

        #(#cfgs)*
        impl #name {
            /// The function as written, callable directly (in unit tests, say).
            #run
        }

        #(#cfgs)*
        impl #generics ::kotori::__private::#trait_name<#state, ::kotori::__private::Macro, ::kotori::__private::mode::#mode>
            for #name
        where
            #(#bounds,)*
        {
            fn call<'a>(&'a self, cx: &'a mut ::kotori::__private::Ctx<#state>)
                -> ::kotori::__private::Flow<'a, #flow_output>
            {
                #body
            }

            fn needs(&self) -> ::std::vec::Vec<::kotori::__private::Needs> {
                ::std::vec![#(<#extractors as ::kotori::__private::FromCtx<#state>>::needs()),*]
            }

            fn declares(&self) -> ::kotori::openapi::Declares {
                ::kotori::openapi::Declares::new()
                    #(.and(<#extractors as ::kotori::__private::FromCtx<#state>>::declares()))*
            }

            #produces

            fn name(&self) -> ::std::borrow::Cow<'static, str> {
                ::std::borrow::Cow::Borrowed(#step_name)
            }

            fn doc(&self) -> ::core::option::Option<&'static str> {
                #doc
            }
        }
    })
}

/// Extract every extractor (in order, before the context is lent), call `run`, wrap its result.
fn call_body(kind: Kind, sig: &Signature, state: &TokenStream) -> TokenStream {
    let fail = match kind {
        Kind::Guard | Kind::Loader => quote!(::kotori::__private::rejected(rejection)),
        Kind::Handler => quote!(::kotori::__private::Reply::Rejection(rejection)),
    };
    let wrap = match kind {
        Kind::Guard => quote!(::kotori::__private::guard_outcome),
        Kind::Loader => quote!(::kotori::__private::loader_outcome),
        Kind::Handler => quote!(::kotori::__private::reply),
    };
    let mut extract = Vec::new();
    let mut call_args = Vec::new();
    for (i, arg) in sig.args.iter().enumerate() {
        match arg {
            Arg::Ctx => call_args.push(quote!(cx)),
            Arg::Extract(ty) => {
                let binding = format_ident!("__kotori_arg{i}");
                extract.push(quote! {
                    let #binding = match <#ty as ::kotori::__private::FromCtx<#state>>::from_ctx(cx) {
                        ::core::result::Result::Ok(value) => value,
                        ::core::result::Result::Err(rejection) => {
                            return ::kotori::__private::Flow::Ready(#fail);
                        }
                    };
                });
                call_args.push(quote!(#binding));
            }
        }
    }
    // Spanned at the return type: a result kotori cannot use is reported there.
    let span = sig
        .output
        .as_ref()
        .map_or_else(proc_macro2::Span::call_site, |o| o.span());
    let call = if sig.is_async {
        // Boxed once where it is made: see `kotori::step::functions::pending`.
        quote_spanned!(span=> ::kotori::__private::pending(Self::run(#(#call_args),*), #wrap))
    } else {
        let wrapped = quote_spanned!(span=> #wrap(Self::run(#(#call_args),*)));
        quote!(::kotori::__private::Flow::Ready(#wrapped))
    };
    quote! {
        #(#extract)*
        #call
    }
}
