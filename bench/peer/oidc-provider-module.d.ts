// node-oidc-provider ships no types (DefinitelyTyped's lag its major versions); the bench uses it untyped.
declare module 'oidc-provider';
