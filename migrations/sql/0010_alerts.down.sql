DROP TABLE mail_opt_outs;
DROP TABLE price_alerts;
