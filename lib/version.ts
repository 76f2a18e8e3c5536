/** The gateway's version, shown by /health and the admin panel. */
export const VERSION = "0.1.0";
