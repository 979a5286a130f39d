"""The one way every consumer group reads Kafka: a loop (`loop`) that polls, hands records to
a projection (`projection`), writes, commits behind the writes (`ledger`) and parks poison
records on dead-letter topics (`dead_letters`)."""
