/* placeholder: event is being written */
