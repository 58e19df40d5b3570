package dev.septa.policy.model;

/** What an intent does to the traffic it covers. Deny wins over Allow. */
public enum Action { ALLOW, DENY }
