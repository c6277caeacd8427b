console.log("client side");
