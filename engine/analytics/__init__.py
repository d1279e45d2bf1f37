"""Read-only analytics over the order book: orders per day (:mod:`.orders`), the plans'
cost and service (:mod:`.plans`), planned against actual (:mod:`.routes`) and the demand
forecast with its backtest (:mod:`.forecast`); :mod:`.reads` runs them on a store's read
transaction."""
