DROP TABLE bulletins;
DROP FUNCTION bulletins_frozen();
DROP TABLE scoring_schemes;
