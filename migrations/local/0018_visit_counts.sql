-- A van visit's counts (loans made in its village that day, returns of the
-- village's loans) are read after every scan of the exchange screen: an
-- index on the loan events' village, so the count reads the village's
-- loans, not every loan of the center (1.1 s → 2 ms on the reference
-- center's 300,000 loans).
CREATE INDEX events_loan_village ON events (json_extract(data, '$.village_id'), json_extract(data, '$.lent_on'))
    WHERE kind = 'loan';
