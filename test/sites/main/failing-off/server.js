// This application cannot start: the line below is a syntax error ("&<>' must be escaped on the page).
const greeting = "&<>'" +;
